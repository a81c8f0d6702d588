"""Opening the clinic server's database from a workstation: connect, check the schema
is the one this ketalog knows (a workstation never migrates: its role has no DDL), and
hand back a `Store` on the PostgreSQL engine.

The address is a libpq URI or key=value string (`postgresql://nurse1@server/clinic`,
`host=... dbname=...`); its password, if any, is never shown: `safe_location` strips it
for messages and logs."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ketalog.domain.clock import Clock, SystemClock
from ketalog.store import pg_schema
from ketalog.store.errors import NewerSchema, NotKetalogDatabase, StoreError
from ketalog.store.location import is_server_address as is_server_address
from ketalog.store.pg_engine import PostgresEngine, translate_error
from ketalog.store.store import Store

CONNECT_TIMEOUT_S = 10
# A write waits this long for another workstation's write lock (then once more) before
# "busy"; a workstation gone quiet inside a transaction loses it (and the lock) after
# the second, so it cannot stop the others writing.
SESSION_SETTINGS = {"lock_timeout": "10s", "idle_in_transaction_session_timeout": "60s"}
# Which workstation a connection is (the server's pg_stat_activity, change notifications).
APPLICATION_NAME = f"ketalog {socket.gethostname()}"[:63]


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
        location = safe_location(conninfo)
        where = location if not location.startswith("postgresql://") else \
            f"the clinic server {location}"
        raise StoreError(f"cannot reach {where}: "
                         f"{without_password(str(exc).strip(), conninfo)}") from exc


def without_password(text: str, conninfo: str) -> str:
    """`text` (a driver's message) with the address's password, if it quotes it, hidden."""
    try:
        secret = str(conninfo_to_dict(conninfo).get("password") or "")
    except psycopg.ProgrammingError:
        secret = ""
    return text.replace(secret, "***") if secret else text


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


# --- Setting up and migrating a clinic server (`ketalog server init|migrate`). ---
# These connect as the clinic's PostgreSQL administrator: a superuser, or a role with
# CREATEROLE and CREATEDB. Workstations never run them.

MAINTENANCE_DB = "postgres"


def database_name(conninfo: str) -> str:
    """The database the address names (`/clinic` in a URI, `dbname=` otherwise)."""
    try:
        name = str(conninfo_to_dict(conninfo).get("dbname") or "")
    except psycopg.ProgrammingError as exc:
        raise StoreError("the clinic server's address cannot be read: give it as "
                         "postgresql://USER@HOST/DATABASE") from exc
    if not name:
        raise StoreError(f"{safe_location(conninfo)} names no database: give it as "
                         "postgresql://USER@HOST/DATABASE")
    return name


def _elsewhere(conninfo: str, dbname: str) -> str:
    """The same server and login, another database."""
    return make_conninfo(conninfo, dbname=dbname)


def _one(conn: psycopg.Connection[Any], query: str, params: list[object]) -> object:
    row = conn.execute(query, params).fetchone()
    return row[0] if row else None


def _role_exists(conn: psycopg.Connection[Any], role: str) -> bool:
    return bool(_one(conn, "SELECT count(*) FROM pg_roles WHERE rolname = %s", [role]))


@dataclass(frozen=True)
class ServerSetup:
    """What `set_up_server` found and what it made."""
    location: str
    roles_created: tuple[str, ...]
    roles_found: tuple[str, ...]
    database_created: bool
    steps_applied: tuple[str, ...]


@dataclass(frozen=True)
class DatabaseState:
    """What a database named for `server init` holds already."""
    exists: bool
    steps: tuple[str, ...] = ()  # ketalog schema steps recorded
    accounts: int = 0  # ketalog accounts (a clinic has at least its first admin)
    other_tables: int = 0  # tables in it without a ketalog schema: someone else's data


def database_state(conninfo: str) -> DatabaseState:
    location, name = safe_location(conninfo), database_name(conninfo)
    with connect(_elsewhere(conninfo, MAINTENANCE_DB)) as conn:
        if not _one(conn, "SELECT count(*) FROM pg_database WHERE datname = %s", [name]):
            return DatabaseState(False)
    with connect(conninfo) as conn:
        try:
            steps = tuple(pg_schema.applied_steps(conn))
            if not steps:
                tables = _one(conn, "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN "
                                    "('pg_catalog', 'information_schema')", [])
                return DatabaseState(True, other_tables=int(str(tables)))
            accounts = _one(conn, "SELECT count(*) FROM users", [])
            return DatabaseState(True, steps, int(str(accounts)))
        except psycopg.Error as exc:
            raise StoreError(f"{location}: cannot read the database "
                             f"({without_password(str(exc).strip(), conninfo)})") from exc


def _may_set_up(conn: psycopg.Connection[Any], location: str) -> bool:
    """Whether the login is a superuser; refuse one that may not create roles and
    databases."""
    row = conn.execute("SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles "
                       "WHERE rolname = current_user").fetchone()
    superuser, createrole, createdb = (bool(v) for v in (row or (False, False, False)))
    if not superuser and not (createrole and createdb):
        raise StoreError(f"{location}: this login may not create roles and databases; run "
                         "`ketalog server init` as a PostgreSQL superuser (e.g. postgres) or "
                         "a role with CREATEROLE and CREATEDB")
    return superuser


def set_up_server(conninfo: str, applied_at: str) -> ServerSetup:
    """The owner and workstation roles and the database, each made only if missing, then
    the schema brought to the latest step as the owner role (pg_schema.apply)."""
    location, name = safe_location(conninfo), database_name(conninfo)
    owner, workstation = pg_schema.OWNER_ROLE, pg_schema.WORKSTATION_ROLE
    try:
        with connect(_elsewhere(conninfo, MAINTENANCE_DB)) as conn:
            superuser = _may_set_up(conn, location)
            found = tuple(r for r in (owner, workstation) if _role_exists(conn, r))
            for statement in pg_schema.cluster_statements(owner, workstation):
                conn.execute(statement)
            if not superuser:  # CREATE DATABASE ... OWNER and apply() need the membership
                for role in (owner, workstation):
                    if not _one(conn, "SELECT pg_has_role(current_user, %s, 'MEMBER')",
                                [role]):
                        conn.execute(f"GRANT {role} TO CURRENT_USER WITH ADMIN OPTION")
            exists = bool(_one(conn, "SELECT count(*) FROM pg_database WHERE datname = %s",
                               [name]))
            if not exists:
                conn.execute(pg_schema.create_database_statement(name, owner))
        with connect(conninfo) as conn:
            for statement in pg_schema.database_statements(name, owner, workstation):
                conn.execute(statement)
            with conn.transaction():
                applied = pg_schema.apply(conn, applied_at, owner=owner,
                                          workstation=workstation)
    except pg_schema.SchemaProblem as exc:
        raise StoreError(f"{location}: {exc}") from exc
    except ValueError as exc:  # a name pg_schema will not put into a statement
        raise StoreError(f"{location}: {name!r} cannot be a clinic database's name: use "
                         "lower-case letters, digits and _") from exc
    except psycopg.Error as exc:
        raise StoreError(f"{location}: {without_password(str(exc).strip(), conninfo)}") from exc
    created = tuple(r for r in (owner, workstation) if r not in found)
    return ServerSetup(location, created, found, not exists, tuple(applied))


def migrate_server(conninfo: str, applied_at: str,
                   steps: Sequence[pg_schema.Step] = pg_schema.STEPS) -> list[str]:
    """Pending schema steps, applied as the owner role (the login must be a member of it,
    or a superuser); returns the step names applied now."""
    location = safe_location(conninfo)
    try:
        with connect(conninfo) as conn:
            if not pg_schema.applied_steps(conn):
                raise NotKetalogDatabase(
                    f"{location} holds no ketalog database yet; set it up with "
                    "`ketalog server init` (docs/server.md)")
            with conn.transaction():
                return pg_schema.apply(conn, applied_at, steps=steps)
    except pg_schema.SchemaProblem as exc:
        raise NewerSchema(f"{location}: {exc}") from exc
    except psycopg.errors.InsufficientPrivilege as exc:
        raise StoreError(f"{location}: this login may not change the schema; run "
                         f"`ketalog server migrate` as a member of {pg_schema.OWNER_ROLE} "
                         "(or a superuser)") from exc
    except psycopg.Error as exc:
        raise StoreError(f"{location}: {without_password(str(exc).strip(), conninfo)}") from exc


def login_exists(conninfo: str, login: str) -> bool:
    with connect(conninfo) as conn:
        return _role_exists(conn, login)


def create_login(conninfo: str, login: str, role: str, password: str) -> bool:
    """A login in `role` with `password`, sent to the server already hashed (SCRAM), so
    it never appears in the server's statement log; False if the login existed (then
    nothing changes)."""
    location = safe_location(conninfo)
    try:
        with connect(conninfo) as conn:
            if _role_exists(conn, login):
                return False
            hashed = conn.pgconn.encrypt_password(password.encode(), login.encode(),
                                                  b"scram-sha-256").decode()
            with conn.transaction():
                conn.execute(pg_schema.login_statement(login, role))
                conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                    sql.Identifier(login), sql.Literal(hashed)))
    except ValueError as exc:  # not a plain lower-case name
        raise StoreError(f"{login!r}: a login name is lower-case letters, digits and _ "
                         "(not starting with a digit)") from exc
    except psycopg.Error as exc:
        raise StoreError(f"{location}: cannot create the login {login}: "
                         f"{without_password(str(exc).strip(), conninfo)}") from exc
    return True
