"""Backups through SQLite's backup API (safe while the app runs), verified by reopening
the copy; restore keeps the replaced file aside. A backup is written under a temporary
name and renamed only once verified, so a file with a final name is always sound."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ketalog.store.audit import walk_chain
from ketalog.store.connection import check_header, is_ketalog_schema
from ketalog.store.engine import FileKind, classify, open_connection
from ketalog.store.errors import NotKetalogDatabase, StoreError, WrongPassphrase
from ketalog.store.private_files import make_private, private_file, private_folder
from ketalog.store.progress import PhaseProgress, Progress
from ketalog.store.sqlite_engine import sqlite_connection
from ketalog.store.store import Store

__all__ = ["BackupReport", "PhaseProgress", "Progress", "RestoreReport", "backup_to",
           "check_copy", "restore_from"]


@dataclass(frozen=True)
class BackupReport:
    path: Path
    size_bytes: int
    row_counts: dict[str, int]


def _counts(conn: sqlite3.Connection) -> dict[str, int]:
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name")]
    return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not possible on every platform
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def check_copy(path: Path, expected_counts: dict[str, int] | None = None,
               passphrase: str | None = None, phases: PhaseProgress | None = None
               ) -> dict[str, int]:
    """Reopen a copy read-only: integrity (and SQLCipher's page HMACs when encrypted),
    ketalog schema, audit chain, row counts. `phases` hears "check copy" 0..3 of 3."""
    def report(done: int) -> None:
        if phases:
            phases("check copy", done, 3)

    kind = check_header(path, passphrase)
    key = passphrase if kind is FileKind.ENCRYPTED else None
    conn = open_connection(path, key, readonly=True)
    try:
        report(0)
        if key is not None:
            broken = [r[0] for r in conn.execute("PRAGMA cipher_integrity_check")]
            if broken:
                raise StoreError(f"{path} failed its encryption check: {'; '.join(broken[:5])}")
        result = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        if result != ["ok"]:
            raise StoreError(f"{path} failed its integrity check: {'; '.join(result[:5])}")
        report(1)
        if not is_ketalog_schema(conn):
            raise NotKetalogDatabase(f"{path} is not a ketalog database")
        breaks = list(walk_chain(conn))
        if breaks:
            raise StoreError(f"{path}: audit log is not intact: {breaks[0]}")
        report(2)
        counts = _counts(conn)
        report(3)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} cannot be read: {exc}") from exc
    finally:
        conn.close()
    if expected_counts is not None and counts != expected_counts:
        diff = {k: (expected_counts.get(k), counts.get(k)) for k in
                set(expected_counts) | set(counts) if expected_counts.get(k) != counts.get(k)}
        raise StoreError(f"backup row counts differ from the database (database changed "
                         f"during the backup? retry): {diff}")
    return counts


@contextlib.contextmanager
def _snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """Hold one read transaction (unless the caller is already in one)."""
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN")
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the snapshot starts
        yield
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")


def backup_to(store: Store, target: Path, progress: Progress | None = None,
              pages_per_step: int = 4096, phases: PhaseProgress | None = None
              ) -> BackupReport:
    """`progress` hears the pages copied; `phases` hears the whole job: "copy" (pages),
    "count" (the source's rows, 0 then 1 of 1), then check_copy's "check copy". The
    check reads the copy once more, so it takes about as long as the copy."""
    target = Path(target)
    if target.exists():
        raise StoreError(f"{target} already exists; choose another name")
    source = sqlite_connection(store.engine)
    private_folder(target.parent)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    private_file(partial)
    dest = open_connection(partial, store.passphrase)  # encrypted stays encrypted
    try:
        def step(status: int, remaining: int, total: int) -> None:
            if progress:
                progress(total - remaining, total)
            if phases:
                phases("copy", total - remaining, total)
        with _snapshot(source):
            # One read transaction over every step: a write by another connection (the
            # monitor feed, a second ketalog) would otherwise restart the copy from page 1,
            # for ever on a file that takes minutes; and the counts match the copy. No
            # sleep between steps: in WAL mode writers never wait for this reader.
            source.backup(dest, pages=pages_per_step, progress=step, sleep=0)
            if phases:
                phases("count", 0, 1)
            expected = _counts(source)
            if phases:
                phases("count", 1, 1)
        dest.execute("PRAGMA journal_mode = DELETE")
    except sqlite3.Error as exc:
        dest.close()
        partial.unlink(missing_ok=True)
        raise StoreError(f"backup failed: {exc}") from exc
    dest.close()
    try:
        counts = check_copy(partial, expected, store.passphrase, phases)
        _fsync(partial)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return BackupReport(target, target.stat().st_size, counts)


@dataclass(frozen=True)
class RestoreReport:
    restored_from: Path
    replaced_copy: Path | None
    row_counts: dict[str, int]


def _keep_aside(db_path: Path, stamp: str, passphrase: str | None) -> Path | None:
    """Copy the database about to be replaced to `<db>.replaced-<stamp>`: through the
    backup API when it can be read, byte for byte (with its -wal) when it cannot, so a
    damaged file is kept exactly as it was found."""
    if not db_path.exists() or db_path.stat().st_size == 0:
        return None
    aside = db_path.with_name(f"{db_path.name}.replaced-{stamp}")
    kind = classify(db_path)
    key = passphrase if kind is FileKind.ENCRYPTED else None
    if kind is FileKind.PLAIN or key is not None:
        try:
            current = open_connection(db_path, key)
            try:
                if current.execute("PRAGMA quick_check").fetchall() != [("ok",)]:
                    raise StoreError("damaged: keep it byte for byte")
                dest = open_connection(private_file(aside), key)
                try:
                    current.backup(dest)
                finally:
                    dest.close()
            finally:
                current.close()
            return aside
        except (sqlite3.Error, StoreError):
            for leftover in (aside, Path(f"{aside}-wal"), Path(f"{aside}-shm")):
                leftover.unlink(missing_ok=True)
    shutil.copy2(db_path, aside)
    wal = Path(f"{db_path}-wal")
    if wal.exists():
        shutil.copy2(wal, Path(f"{aside}-wal"))
    make_private(aside, Path(f"{aside}-wal"))
    return aside


def checkpoint_alone(path: Path, passphrase: str | None = None) -> None:
    """Fold the WAL into the file and make sure nobody else has it open: the last
    connection to close removes the -wal file, so a -wal left behind means another
    ketalog (or other program) still holds the database, and would go on writing into
    a file that is about to be replaced or converted."""
    conn = open_connection(path, passphrase)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    if Path(f"{path}-wal").exists():
        raise StoreError(f"{path} is open in another program (another ketalog?); close it "
                         "everywhere and try again")


def restore_from(source: Path, db_path: Path, stamp: str,
                 passphrase: str | None = None) -> RestoreReport:
    """Replace the database at `db_path` with a verified backup. The backup is first
    copied beside the database and verified, the current file (sound or damaged) is
    kept as `<db>.replaced-<stamp>`, then the copy is renamed into place, so a crash at
    any point leaves either the old file or the restored one. An encrypted backup stays
    encrypted under the same passphrase. No other ketalog may have the database open."""
    source, db_path = Path(source), Path(db_path)
    counts = check_copy(source, passphrase=passphrase)
    key = passphrase if classify(source) is FileKind.ENCRYPTED else None
    if db_path.exists() and classify(db_path) in (FileKind.PLAIN, FileKind.ENCRYPTED):
        try:
            checkpoint_alone(db_path, passphrase if classify(db_path) is FileKind.ENCRYPTED
                             else None)
        except (sqlite3.Error, WrongPassphrase):
            pass  # a file that cannot be opened has no writers; it is kept aside as it is
    staging = db_path.with_name(f"{db_path.name}.restoring-{stamp}")
    for leftover in (staging, Path(f"{staging}-wal"), Path(f"{staging}-shm")):
        leftover.unlink(missing_ok=True)
    try:
        src = open_connection(source, key, readonly=True)
        try:
            dest = open_connection(private_file(staging), key)
            try:
                src.backup(dest)
                dest.execute("PRAGMA journal_mode = DELETE")
            finally:
                dest.close()
        finally:
            src.close()
        check_copy(staging, counts, key)
        _fsync(staging)
    except sqlite3.Error as exc:
        staging.unlink(missing_ok=True)
        raise StoreError(f"restore failed, nothing was replaced: {exc}") from exc
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
    aside = _keep_aside(db_path, stamp, passphrase)
    for suffix in ("-wal", "-shm"):  # they belong to the replaced file (kept aside)
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    os.replace(staging, db_path)
    make_private(db_path)
    _fsync_dir(db_path.parent)
    check_copy(db_path, counts, key)
    return RestoreReport(source, aside, counts)
