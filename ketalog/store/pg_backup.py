"""A clinic server's dump and its check: `pg_dump --format=custom` of the database in one
snapshot whose audit head is read alongside, and `pg_restore` of a dump into a scratch
database on the same server (a unique name, dropped afterwards whatever happens) that
the caller opens as a store and verifies.

The address's password never reaches a command line (where `ps` would show it): the
tools get the address without it and the password through PGPASSWORD."""

from __future__ import annotations

import glob
import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ketalog.store import pg_schema
from ketalog.store.errors import StoreError
from ketalog.store.pg_connection import (
    MAINTENANCE_DB,
    connect,
    database_name,
    safe_location,
    without_password,
)
from ketalog.store.private_files import private_file

BINDIR_ENV = "KETALOG_PG_BINDIR"  # when set, the only folder the tools are looked for in
INSTALL_HINT = ("install PostgreSQL's client tools (Debian/Ubuntu: apt install "
                "postgresql-client; Windows: PostgreSQL's bin folder on PATH), or name "
                f"their folder in {BINDIR_ENV}")
TOOL_TIMEOUT_S = 6 * 3600


def find_tool(name: str) -> Path:
    """`pg_dump` or `pg_restore`: from KETALOG_PG_BINDIR alone when it is set, else on
    PATH, in `pg_config --bindir`, or the newest /usr/lib/postgresql/*/bin."""
    exe = name + (".exe" if os.name == "nt" else "")
    chosen = os.environ.get(BINDIR_ENV)
    if chosen:
        candidates = [Path(chosen).expanduser() / exe]
    else:
        on_path = shutil.which(name)
        candidates = [Path(on_path)] if on_path else []
        config = shutil.which("pg_config")
        if config:
            try:
                bindir = subprocess.run([config, "--bindir"], capture_output=True,
                                        text=True, timeout=30, check=True).stdout.strip()
                candidates.append(Path(bindir) / exe)
            except (OSError, subprocess.SubprocessError):
                pass
        versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                          key=lambda p: [int(n) for n in re.findall(r"\d+", p)],
                          reverse=True)
        candidates += [Path(folder) / exe for folder in versions]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    where = f"in {chosen}" if chosen else "on PATH, in `pg_config --bindir` or " \
                                          "/usr/lib/postgresql/*/bin"
    raise StoreError(f"{name} was not found {where}: {INSTALL_HINT}")


def _tool_address(conninfo: str, dbname: str | None = None) -> tuple[str, dict[str, str]]:
    """The address for a tool's --dbname, without the password, and its environment."""
    parts = {k: str(v) for k, v in conninfo_to_dict(conninfo).items() if v is not None}
    secret = parts.pop("password", None)
    if dbname is not None:
        parts["dbname"] = dbname
    env = dict(os.environ)
    if secret:
        env["PGPASSWORD"] = secret
    return make_conninfo("", **parts), env


def _run(argv: list[str], env: dict[str, str], conninfo: str, what: str) -> None:
    try:
        done = subprocess.run(argv, env=env, capture_output=True, text=True,
                              timeout=TOOL_TIMEOUT_S, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as exc:
        raise StoreError(f"{what} failed: {without_password(str(exc), conninfo)}") from exc
    if done.returncode != 0:
        message = without_password((done.stderr or done.stdout).strip(), conninfo)
        raise StoreError(f"{what} failed: {message or f'exit status {done.returncode}'}")


def dump(conninfo: str, target: Path) -> tuple[int, str] | None:
    """Dump the database to `target` (written owner-only under a temporary name beside
    it, renamed when complete) and return the audit head the dump holds (None for an
    empty log): the head is read in the very snapshot pg_dump dumps."""
    tool = find_tool("pg_dump")
    find_tool("pg_restore")  # the check needs it: refused before anything is written
    _may_back_up(conninfo)
    address, env = _tool_address(conninfo)
    partial = target.with_name(f".{target.name}.part")
    private_file(partial)
    try:
        with connect(conninfo) as conn:
            try:
                conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                snapshot = str(_one(conn, "SELECT pg_export_snapshot()"))
                row = conn.execute("SELECT id, entry_hash FROM audit_log ORDER BY id DESC "
                                   "LIMIT 1").fetchone()
                head = None if row is None else (int(row[0]), str(row[1]))
                _run([str(tool), "--format=custom", f"--snapshot={snapshot}",
                      f"--file={partial}", f"--dbname={address}"], env, conninfo,
                     f"pg_dump of {safe_location(conninfo)}")
                conn.execute("COMMIT")
            except psycopg.Error as exc:
                raise StoreError(f"{safe_location(conninfo)}: cannot take a snapshot "
                                 f"({without_password(str(exc).strip(), conninfo)})"
                                 ) from exc
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return head


def _may_back_up(conninfo: str) -> None:
    """Refuse a login that cannot read every table or create the scratch database."""
    with connect(conninfo) as conn:
        row = conn.execute("SELECT rolsuper, rolcreatedb, pg_has_role(current_user, %s, "
                           "'MEMBER') FROM pg_roles WHERE rolname = current_user",
                           [pg_schema.OWNER_ROLE]).fetchone()
    superuser, createdb, owner = (bool(v) for v in (row or (False, False, False)))
    if not (superuser or (createdb and owner)):
        raise StoreError(f"{safe_location(conninfo)}: this login may not back up the "
                         "clinic server; run `ketalog server backup` as a login that may "
                         "create databases and reads every table (a superuser such as "
                         f"postgres, or a member of {pg_schema.OWNER_ROLE} with CREATEDB)")


def _one(conn: psycopg.Connection[Any], query: str) -> object:
    row = conn.execute(query).fetchone()
    return row[0] if row else None


@contextmanager
def scratch_restore(conninfo: str, dump_file: Path) -> Iterator[str]:
    """Restore `dump_file` into a new database of a unique name on the server of
    `conninfo` (its login must be able to create databases) and yield that database's
    address; the database is dropped afterwards whatever happens."""
    tool = find_tool("pg_restore")
    name = f"{database_name(conninfo)[:40]}_verify_{secrets.token_hex(4)}".lower()
    name = re.sub(r"[^a-z0-9_]", "_", name)
    location = safe_location(conninfo)
    maintenance = make_conninfo(conninfo, dbname=MAINTENANCE_DB)
    scratch = make_conninfo(conninfo, dbname=name)
    try:
        with connect(maintenance) as conn:
            conn.execute(pg_schema.create_database_statement(name))
    except psycopg.Error as exc:
        raise StoreError(f"{location}: cannot create a scratch database to check the "
                         "backup in; run `ketalog server backup` as a login that may "
                         "create databases (a superuser, or the database's owner with "
                         f"CREATEDB) ({without_password(str(exc).strip(), conninfo)})"
                         ) from exc
    try:
        with connect(scratch) as conn:
            for statement in pg_schema.database_statements(name):
                conn.execute(statement)
        address, env = _tool_address(conninfo, name)
        _run([str(tool), "--exit-on-error", "--single-transaction", f"--dbname={address}",
              str(dump_file)], env, conninfo, f"pg_restore of {dump_file.name}")
        yield scratch
    except psycopg.Error as exc:
        raise StoreError(f"{location}: the scratch database {name}: "
                         f"{without_password(str(exc).strip(), conninfo)}") from exc
    finally:
        _drop(maintenance, name, location)


def _drop(maintenance: str, name: str, location: str) -> None:
    try:
        with connect(maintenance) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except (psycopg.Error, StoreError) as exc:
        raise StoreError(f"{location}: the scratch database {name} could not be dropped; "
                         f"drop it by hand (DROP DATABASE {name}): "
                         f"{without_password(str(exc).strip(), maintenance)}") from exc


def login_name(conninfo: str) -> str:
    """The PostgreSQL login the address names (libpq's default: the system user)."""
    with connect(conninfo) as conn:
        return str(_one(conn, "SELECT current_user"))
