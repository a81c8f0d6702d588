"""Opening a database file safely: refuse network shares and foreign files, set the
durability pragmas, copy the file aside before migrating it."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from sqlite_utils import Database

from ketalog.domain.clock import Clock, SystemClock
from ketalog.store.errors import NetworkFilesystemError, NotKetalogDatabase, StoreError
from ketalog.store.location import network_location_reason
from ketalog.store.schema import MIGRATION_SET, migrations
from ketalog.store.store import Store

BUSY_TIMEOUT_MS = 5000
SQLITE_HEADER = b"SQLite format 3\x00"


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """A raw connection with ketalog's pragmas. Autocommit mode: Store.write issues
    BEGIN IMMEDIATE itself, so the driver must not open transactions behind our back."""
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None,
                               timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    else:
        conn = sqlite3.connect(str(path), isolation_level=None,
                               timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    if not readonly:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            conn.close()
            raise StoreError(f"could not switch {path} to WAL journal mode (got {mode})")
    conn.execute("PRAGMA synchronous = FULL")
    return conn


def check_header(path: Path) -> None:
    """A non-empty file that is not SQLite at all is refused before SQLite touches it."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb") as fh:
        header = fh.read(16)
    if header != SQLITE_HEADER:
        raise NotKetalogDatabase(f"{path} is not a ketalog database (not an SQLite file, "
                                 "or its header is damaged)")


def is_ketalog_schema(conn: sqlite3.Connection) -> bool:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not tables:
        return True  # empty file: ours to initialise
    if "_sqlite_migrations" not in tables:
        return False
    row = conn.execute("SELECT count(*) FROM _sqlite_migrations WHERE migration_set = ?",
                       [MIGRATION_SET]).fetchone()
    return bool(row and row[0])


def _existing_file_is_ketalog(path: Path) -> bool:
    """Check the schema of an existing file through a plain connection, before any pragma
    (journal_mode=WAL is persistent) is set: a refused file must be left untouched."""
    probe = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        return is_ketalog_schema(probe)
    finally:
        probe.close()


def copy_with_backup_api(source: sqlite3.Connection, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    dest = sqlite3.connect(str(target))
    try:
        source.backup(dest)
    finally:
        dest.close()


def open_store(path: Path | str, clock: Clock | None = None, *, create: bool = True,
               migrate: bool = True) -> Store:
    """Open (and if needed create and migrate) the database at `path`."""
    path = Path(path).expanduser()
    reason = network_location_reason(path)
    if reason:
        raise NetworkFilesystemError(
            f"refusing to open the database: {reason}. SQLite's file locking does not work "
            "on network shares, so records could be lost. Keep the database on a local "
            "disk; several workstations need a clinic server, not a shared file.")
    if not path.exists():
        if not create:
            raise StoreError(f"no database at {path} (create one with `ketalog init`)")
        path.parent.mkdir(parents=True, exist_ok=True)
        old_umask = os.umask(0o077)
        try:
            sqlite3.connect(str(path)).close()
        finally:
            os.umask(old_umask)
    check_header(path)
    conn: sqlite3.Connection | None = None
    try:
        if path.stat().st_size > 0 and not _existing_file_is_ketalog(path):
            raise NotKetalogDatabase(f"{path} is an SQLite file but not a ketalog database")
        conn = connect(path)
        if not is_ketalog_schema(conn):
            conn.close()
            raise NotKetalogDatabase(f"{path} is an SQLite file but not a ketalog database")
        db = Database(conn, execute_plugins=False)
        if migrate:
            pending = migrations.pending(db)
            if pending and migrations.applied(db):
                stamp = (clock or SystemClock()).now().strftime("%Y%m%dT%H%M%S")
                copy_with_backup_api(conn, path.with_name(f"{path.name}.pre-migrate-{stamp}"))
            if pending:
                migrations.apply(db)
    except sqlite3.DatabaseError as exc:
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()
        raise NotKetalogDatabase(f"{path} cannot be read as a ketalog database: {exc}") from exc
    return Store(db, path, clock or SystemClock())
