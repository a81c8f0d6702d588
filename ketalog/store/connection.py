"""Opening a database file safely: refuse network shares, foreign, damaged and newer
files with a message that says what to do, open an encrypted file only with SQLCipher,
run quick_check before anything is written, set the durability pragmas, copy the file
aside before migrating it."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from sqlite_utils import Database

from ketalog.domain.clock import Clock, SystemClock
from ketalog.store.diagnosis import environment_problem, from_os_error
from ketalog.store.engine import SQLITE_HEADER, FileKind, classify, open_connection
from ketalog.store.errors import (
    DamagedDatabase,
    DiskFull,
    EmptyDatabase,
    NetworkFilesystemError,
    NewerSchema,
    NotKetalogDatabase,
    PassphraseRequired,
    ReadOnlyDatabase,
    StoreError,
)
from ketalog.store.location import network_location_reason
from ketalog.store.private_files import private_file, private_folder
from ketalog.store.schema import MIGRATION_SET, migrations
from ketalog.store.sqlite_engine import SqliteEngine
from ketalog.store.store import Store

__all__ = ["SQLITE_HEADER", "BUSY_TIMEOUT_MS", "connect", "open_store", "open_for_verify",
           "check_header",
           "is_ketalog_schema", "copy_with_backup_api", "read_only_store", "second_connection"]

BUSY_TIMEOUT_MS = 5000


def connect(path: Path, *, readonly: bool = False,
            passphrase: str | None = None) -> sqlite3.Connection:
    """A raw connection with ketalog's pragmas. Autocommit mode: Store.write issues
    BEGIN IMMEDIATE itself, so the driver must not open transactions behind our back."""
    conn = open_connection(Path(path), passphrase, readonly=readonly,
                           timeout_s=BUSY_TIMEOUT_MS / 1000)
    _set_pragmas(conn, path, readonly)
    return conn


def _set_pragmas(conn: sqlite3.Connection, path: Path, readonly: bool = False) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    if not readonly:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            conn.close()
            raise StoreError(f"could not switch {path} to WAL journal mode (got {mode})")
    conn.execute("PRAGMA synchronous = FULL")


def check_header(path: Path, passphrase: str | None = None, *,
                 just_created: bool = False) -> FileKind:
    """Refuse, before any SQLite library touches it, a file that cannot be ours. A 0-byte
    file is only ever one this process created a moment ago: anything else empty is an
    emptied or truncated clinic file, and starting a new clinic over it would hide that."""
    kind = classify(path)
    if kind is FileKind.EMPTY and not just_created:
        raise EmptyDatabase(f"{path} is empty (0 bytes): it is not a ketalog database and "
                            "will not be taken for a new clinic; if it held the clinic's "
                            "records, restore a backup")
    if kind is FileKind.FOREIGN:
        raise NotKetalogDatabase(f"{path} is not a ketalog database (not an SQLite file)")
    if kind is FileKind.DAMAGED:
        raise DamagedDatabase(f"{path} is damaged: its SQLite header has been overwritten")
    if kind is FileKind.ENCRYPTED and passphrase is None:
        raise PassphraseRequired(f"{path} is encrypted (or it is not a ketalog database): "
                                 "its passphrase is needed to open it")
    return kind


def is_ketalog_schema(conn: sqlite3.Connection) -> bool:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not tables:
        return True  # empty file: ours to initialise
    if "_sqlite_migrations" not in tables:
        return False
    row = conn.execute("SELECT count(*) FROM _sqlite_migrations WHERE migration_set = ?",
                       [MIGRATION_SET]).fetchone()
    return bool(row and row[0])


def unknown_migrations(conn: sqlite3.Connection) -> list[str]:
    """Steps applied by a newer ketalog that this one does not know."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "_sqlite_migrations" not in tables:
        return []
    known = {m.name for m in migrations.pending(Database(memory=True))}
    applied = [r[0] for r in conn.execute(
        "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY id",
        [MIGRATION_SET])]
    return [name for name in applied if name not in known]


def quick_check_problems(conn: sqlite3.Connection) -> list[str]:
    result = [str(r[0]) for r in conn.execute("PRAGMA quick_check")]
    return [] if result == ["ok"] else result


def _probe(path: Path, conn: sqlite3.Connection, quick_check: bool = True) -> None:
    """Check an existing file before any pragma (journal_mode=WAL is persistent) is set
    on its connection: a refused file is left untouched. The same connection is used
    afterwards, so an encrypted file derives its key once. quick_check reads every page
    (seconds on a ten-year file): the GUI skips it here and runs it on a worker
    connection once the window shows (ui/integrity_watch.py)."""
    problems = quick_check_problems(conn) if quick_check else []
    if problems:
        raise DamagedDatabase(f"{path} is damaged (quick_check: {'; '.join(problems[:3])})")
    if not is_ketalog_schema(conn):
        raise NotKetalogDatabase(f"{path} is an SQLite file but not a ketalog database")
    newer = unknown_migrations(conn)
    if newer:
        raise NewerSchema(f"{path} was written by a newer version of ketalog (schema "
                          f"steps {', '.join(newer)}); install that version to open it")


def _check_writable(path: Path) -> None:
    """WAL needs to write the file and create -wal/-shm beside it."""
    folder = path.parent
    if not os.access(path, os.W_OK) or not os.access(folder, os.W_OK):
        raise environment_problem(path) or ReadOnlyDatabase(
            f"{path} is read-only (file permissions or a read-only disk), so nothing could "
            "be saved. Ask your administrator to make the file and its folder writable "
            "for this account.")


def translate_open_error(path: Path, exc: sqlite3.Error) -> StoreError:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return StoreError(f"{path} is in use by another program that holds it locked; "
                          "close it and try again")
    if "disk is full" in text:
        return DiskFull(f"the disk holding {path} is full; free some space and try again "
                        "(the file is not damaged)")
    # "disk I/O error", "unable to open", "readonly": the disk or the account first
    environment = environment_problem(path)
    if environment is not None:
        return environment
    if "readonly" in text or "read-only" in text:
        return ReadOnlyDatabase(f"{path} is read-only (file permissions or a read-only "
                                "disk), so nothing could be saved")
    if "not a database" in text:
        return NotKetalogDatabase(f"{path} cannot be read as a ketalog database (it is "
                                  f"damaged, or it is some other file): {exc}")
    return DamagedDatabase(f"{path} is damaged and cannot be read as a ketalog database "
                           f"({exc})")


def copy_with_backup_api(source: sqlite3.Connection, target: Path,
                         passphrase: str | None = None) -> None:
    dest = open_connection(private_file(target), passphrase)
    try:
        source.backup(dest)
    finally:
        dest.close()


def _create_empty(path: Path, passphrase: str | None) -> None:
    private_folder(path.parent)
    private_file(path)
    old_umask = os.umask(0o077)
    try:
        if passphrase is None:
            sqlite3.connect(str(path)).close()
        else:  # an encrypted file is only ever touched by SQLCipher, from its first byte
            conn = open_connection(path, passphrase)
            try:
                conn.execute("PRAGMA journal_mode = WAL")
            finally:
                conn.close()
    finally:
        os.umask(old_umask)


def open_store(path: Path | str, clock: Clock | None = None, *, create: bool = True,
               migrate: bool = True, passphrase: str | None = None,
               quick_check: bool = True) -> Store:
    """Open (and if needed create and migrate) the database at `path`. A new file is
    encrypted when a passphrase is given; an existing file is opened with the library
    its header calls for (a plain file ignores the passphrase)."""
    path = Path(path).expanduser()
    reason = network_location_reason(path)
    if reason:
        raise NetworkFilesystemError(
            f"refusing to open the database: {reason}. SQLite's file locking does not work "
            "on network shares, so records could be lost. Keep the database on a local "
            "disk; several workstations need a clinic server, not a shared file.")
    created = False
    try:
        if not path.exists():
            if not create:
                raise StoreError(f"no database at {path} (create one with `ketalog init`)")
            _create_empty(path, passphrase)
            created = True
        kind = check_header(path, passphrase, just_created=created)
    except OSError as exc:
        raise from_os_error(path, exc) from exc
    if kind is FileKind.PLAIN:
        passphrase = None
    _check_writable(path)
    conn: sqlite3.Connection | None = None
    try:
        conn = open_connection(path, passphrase, timeout_s=BUSY_TIMEOUT_MS / 1000)
        if path.stat().st_size > 0:
            _probe(path, conn, quick_check)
        _set_pragmas(conn, path)
        db = Database(conn, execute_plugins=False)
        if migrate:
            pending = migrations.pending(db)
            if pending and migrations.applied(db):
                stamp = (clock or SystemClock()).now().strftime("%Y%m%dT%H%M%S")
                copy_with_backup_api(conn, path.with_name(f"{path.name}.pre-migrate-{stamp}"),
                                     passphrase)
            if pending:
                migrations.apply(db)
    except BaseException as exc:
        _close_quietly(conn)
        translated = _open_error(path, exc, os_errors=True)
        if translated is exc:
            raise
        raise translated from exc
    return Store(SqliteEngine(conn, path, encrypted=passphrase is not None), path,
                 clock or SystemClock(), passphrase=passphrase)


def _close_quietly(conn: sqlite3.Connection | None) -> None:
    """A connection left half-open by a failed open must not hold the file."""
    if conn is not None:
        with contextlib.suppress(Exception):
            conn.close()


def _open_error(path: Path, exc: BaseException, *, os_errors: bool) -> BaseException:
    """What a failed open raises: SQLite's errors (and, where asked, the OS's) in the
    user's words; anything else as it came."""
    if isinstance(exc, sqlite3.Error):
        return translate_open_error(path, exc)
    if os_errors and isinstance(exc, OSError):
        return from_os_error(path, exc)
    return exc


def open_for_verify(path: Path | str, clock: Clock | None = None, *,
                    passphrase: str | None = None) -> Store:
    """Open a file to check it without writing a byte: no pragma, no migration, no new
    file. A database whose -wal file is present is read through it (SQLite may then add
    its -shm index); one that was closed cleanly (no -wal) is read as immutable, so
    verify also works on read-only media and leaves its folder as it was."""
    path = Path(path).expanduser()
    if not path.exists():
        raise StoreError(f"no database at {path}")
    kind = check_header(path, passphrase)
    if kind is FileKind.PLAIN:
        passphrase = None
    wal = path.with_name(path.name + "-wal")
    conn: sqlite3.Connection | None = None
    try:
        try:
            conn = open_connection(path, passphrase, readonly=True, immutable=not wal.exists(),
                                   timeout_s=BUSY_TIMEOUT_MS / 1000)
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError:
            if conn is not None:
                conn.close()
            # a -wal on read-only media cannot be opened with its index: read the file alone
            conn = open_connection(path, passphrase, immutable=True,
                                   timeout_s=BUSY_TIMEOUT_MS / 1000)
        _probe(path, conn)
        if not conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            raise NotKetalogDatabase(f"{path} is an empty SQLite file, not a ketalog database")
    except BaseException as exc:
        _close_quietly(conn)
        translated = _open_error(path, exc, os_errors=False)
        if translated is exc:
            raise
        raise translated from exc
    return Store(SqliteEngine(conn, path, encrypted=passphrase is not None), path,
                 clock or SystemClock(), passphrase=passphrase)


def read_only_store(path: Path, clock: Clock, *, passphrase: str | None = None) -> Store:
    """A store over a file that is only read (a backup being checked before a restore):
    no migration, no probe; the caller has already checked the copy."""
    conn = connect(path, readonly=True, passphrase=passphrase)
    return Store(SqliteEngine(conn, path, encrypted=passphrase is not None), path, clock,
                 passphrase=passphrase)


def second_connection(store: Store) -> Store:
    """Another connection to an open store's file, for a worker thread (a backup): the
    file was probed and migrated when `store` opened it, so no quick_check again (which
    reads every page of a ten-year file). Open it on the thread that will use it."""
    conn = connect(store.path, passphrase=store.passphrase)
    return Store(SqliteEngine(conn, store.path, encrypted=store.passphrase is not None),
                 store.path, store.clock, passphrase=store.passphrase)
