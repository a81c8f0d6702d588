"""The audit chain's head, and the entries anchors outside the file are checked against."""

from __future__ import annotations

import contextlib
from pathlib import Path

from ketalog.store.engine import FileKind, classify, open_connection
from ketalog.store.engine_api import Connection
from ketalog.store.store import Store


def audit_head(store: Store) -> tuple[int, str] | None:
    """The last entry's id and hash; None before the first entry."""
    return _head(store.conn)


def _head(conn: Connection) -> tuple[int, str] | None:
    row = conn.execute("SELECT id, entry_hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    return None if row is None else (int(row[0]), str(row[1]))


def audit_hash(store: Store, entry_id: int) -> str | None:
    row = store.conn.execute("SELECT entry_hash FROM audit_log WHERE id = ?", [entry_id]).fetchone()
    return None if row is None else str(row[0])


def last_restore_at(store: Store) -> str | None:
    """When this file was last put in place by a restore: anchors and backups from
    before it describe the replaced history, not this one."""
    row = store.conn.execute("SELECT max(at) FROM audit_log WHERE action = 'restore'"
                             ).fetchone()
    return None if row is None or row[0] is None else str(row[0])


def head_of_file(path: Path, passphrase: str | None = None) -> tuple[int, str] | None:
    """The audit head of another file (a backup), read without writing to it."""
    key = passphrase if classify(path) is FileKind.ENCRYPTED else None
    conn = open_connection(path, key, immutable=True)
    try:
        return _head(conn)
    finally:
        with contextlib.suppress(Exception):
            conn.close()
