"""Backups through SQLite's backup API (safe while the app runs), verified by reopening
the copy; restore keeps the replaced file aside. A backup is written under a temporary
name and renamed only once verified, so a file with a final name is always sound."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ketalog.store.audit import walk_chain
from ketalog.store.connection import check_header, connect, is_ketalog_schema
from ketalog.store.errors import NotKetalogDatabase, StoreError
from ketalog.store.store import Store

Progress = Callable[[int, int], None]  # (pages done, pages total)


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


def check_copy(path: Path, expected_counts: dict[str, int] | None = None) -> dict[str, int]:
    """Reopen a copy read-only: integrity, ketalog schema, audit chain, row counts."""
    check_header(path)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        result = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        if result != ["ok"]:
            raise StoreError(f"{path} failed its integrity check: {'; '.join(result[:5])}")
        if not is_ketalog_schema(conn):
            raise NotKetalogDatabase(f"{path} is not a ketalog database")
        breaks = list(walk_chain(conn))
        if breaks:
            raise StoreError(f"{path}: audit log is not intact: {breaks[0]}")
        counts = _counts(conn)
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


def backup_to(store: Store, target: Path, progress: Progress | None = None,
              pages_per_step: int = 4096) -> BackupReport:
    target = Path(target)
    if target.exists():
        raise StoreError(f"{target} already exists; choose another name")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    dest = sqlite3.connect(str(partial))
    try:
        def step(status: int, remaining: int, total: int) -> None:
            if progress:
                progress(total - remaining, total)
        store.conn.backup(dest, pages=pages_per_step, progress=step)
        dest.execute("PRAGMA journal_mode = DELETE")
    except sqlite3.Error as exc:
        dest.close()
        partial.unlink(missing_ok=True)
        raise StoreError(f"backup failed: {exc}") from exc
    dest.close()
    try:
        counts = check_copy(partial, _counts(store.conn))
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


def restore_from(source: Path, db_path: Path, stamp: str) -> RestoreReport:
    """Replace the database at `db_path` with a verified backup. The current file is first
    copied (via the backup API) to `<db>.replaced-<stamp>`. No other ketalog may have the
    database open while this runs."""
    source, db_path = Path(source), Path(db_path)
    counts = check_copy(source)
    aside: Path | None = None
    if db_path.exists() and db_path.stat().st_size > 0:
        aside = db_path.with_name(f"{db_path.name}.replaced-{stamp}")
        current = sqlite3.connect(str(db_path))
        try:
            dest = sqlite3.connect(str(aside))
            current.backup(dest)
            dest.close()
        finally:
            current.close()
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        target = connect(db_path)
        try:
            src.backup(target)
        finally:
            target.close()
    finally:
        src.close()
    check_copy(db_path, counts)
    return RestoreReport(source, aside, counts)
