"""Opening the clinic server's database from a workstation: connect, check the schema
is the one this ketalog knows (a workstation never migrates: its role has no DDL), and
hand back a `Store` on the PostgreSQL engine.

The address is a libpq URI or key=value string (`postgresql://nurse1@server/clinic`,
`host=... dbname=...`); its password, if any, is never shown: `safe_location` strips it
for messages and logs."""

from __future__ import annotations

import re
import socket
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from ketalog.domain.clock import Clock, SystemClock
from ketalog.store import pg_schema
from ketalog.store.errors import NewerSchema, NotKetalogDatabase, StoreError
from ketalog.store.pg_engine import PostgresEngine, translate_error
from ketalog.store.store import Store

CONNECT_TIMEOUT_S = 10
# A write waits this long for another workstation's write lock (then once more) before
# "busy"; a workstation gone quiet inside a transaction loses it (and the lock) after
# the second, so it cannot stop the others writing.
SESSION_SETTINGS = {"lock_timeout": "10s", "idle_in_transaction_session_timeout": "60s"}
# Which workstation a connection is (the server's pg_stat_activity, change notifications).
APPLICATION_NAME = f"ketalog {socket.gethostname()}"[:63]
_URI = re.compile(r"^postgres(ql)?://", re.IGNORECASE)


def is_server_address(target: object) -> bool:
    """A PostgreSQL address rather than a file path."""
    text = str(target).strip()
    return bool(_URI.match(text)) or ("dbname=" in text and "=" in text.split()[0])


def safe_location(conninfo: str) -> str:
    """`postgresql://user@host:port/db` without the password, for messages."""
    try:
        parts = conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return "the clinic server (address not readable)"
    host = str(parts.get("host") or "localhost")
    if host.startswith("/"):
        host = f"[{host}]"
    user = f"{parts['user']}@" if parts.get("user") else ""
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{user}{host}{port}/{parts.get('dbname', '')}"


def connect(conninfo: str, **options: Any) -> psycopg.Connection[Any]:
    """A connection in autocommit mode (the store opens its own transactions)."""
    try:
        return psycopg.connect(conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                               application_name=APPLICATION_NAME, **options)
    except psycopg.Error as exc:
        raise StoreError(f"cannot reach the clinic server {safe_location(conninfo)}: "
                         f"{str(exc).strip()}") from exc


def check_schema(conn: psycopg.Connection[Any], location: str) -> None:
    """Refuse a database that is not ketalog's, is not set up yet, or was migrated by a
    newer ketalog (updating this workstation is the fix)."""
    applied = pg_schema.applied_steps(conn)
    if not applied:
        raise NotKetalogDatabase(
            f"{location} holds no ketalog database yet; set it up with "
            "`ketalog server init` (docs/server.md)")
    newer = pg_schema.unknown(applied)
    if newer:
        raise NewerSchema(f"{location} was set up by a newer ketalog (schema steps "
                          f"{', '.join(newer)}); install that version on this workstation")
    pending = pg_schema.pending(set(applied))
    if pending:
        names = ", ".join(name for step in pending for name in step.names)
        raise StoreError(f"{location} needs the schema steps {names}; an administrator "
                         "runs `ketalog server migrate` on the server first")


def open_server_store(conninfo: str, clock: Clock | None = None) -> Store:
    """The store on the clinic server at `conninfo`, checked before anything is read."""
    location = safe_location(conninfo)
    conn = connect(conninfo)
    try:
        for name, value in SESSION_SETTINGS.items():
            conn.execute("SELECT set_config(%s, %s, false)", [name, value])
        check_schema(conn, location)
    except psycopg.Error as exc:
        conn.close()
        raise translate_error(exc) from exc
    except BaseException:
        conn.close()
        raise
    return Store(PostgresEngine(conn, location), None, clock or SystemClock())
