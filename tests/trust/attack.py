"""The attacker's tools: raw sqlite3 on the closed file, no ketalog code, and the full
verify (inside the file, then the anchors and backups outside it) afterwards."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from ketalog.domain.clock import FixedClock
from ketalog.domain.hashing import GENESIS_HASH, audit_entry_hash, content_hash
from ketalog.services.anchors import anchor_problems
from ketalog.store.audit import HASHED_FIELDS
from ketalog.store.connection import open_for_verify, open_store
from ketalog.store.content import session_content
from ketalog.store.verify import verify_store


def raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(str(path), isolation_level=None)


def full_verify(path: Path, clock: FixedClock) -> list[str]:
    store = open_for_verify(path, clock)
    try:
        return verify_store(store) + anchor_problems(store)
    finally:
        store.close()


def trigger_sql(conn: sqlite3.Connection, name: str) -> str:
    return conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", [name]).fetchone()[0]


def without_trigger(conn: sqlite3.Connection, name: str, *statements: str) -> None:
    """Drop a protection trigger, run the edits, put the very same trigger back."""
    sql = trigger_sql(conn, name)
    conn.execute(f"DROP TRIGGER {name}")
    for statement in statements:
        conn.execute(statement)
    conn.execute(sql)


def recomputed_hash(path: Path, clock: FixedClock, session_id: int) -> str:
    """The plain SHA-256 anyone can recompute over the edited rows."""
    store = open_for_verify(path, clock)
    try:
        return content_hash(session_content(store, session_id))
    finally:
        store.close()


def rehash_chain(conn: sqlite3.Connection) -> None:
    """Recompute every audit entry's hashes so the chain is consistent again."""
    for name in ("audit_log_append_only_update",):
        sql = trigger_sql(conn, name)
        conn.execute(f"DROP TRIGGER {name}")
    prev = GENESIS_HASH
    rows = conn.execute("SELECT id, " + ", ".join(HASHED_FIELDS) +
                        " FROM audit_log ORDER BY id").fetchall()
    conn.execute("BEGIN")
    for row in rows:
        fields = dict(zip(HASHED_FIELDS, row[1:], strict=True))
        digest = audit_entry_hash(prev, fields)
        conn.execute("UPDATE audit_log SET prev_hash = ?, entry_hash = ? WHERE id = ?",
                     [prev, digest, row[0]])
        prev = digest
    conn.execute("COMMIT")
    conn.execute(sql)


def rewrite_audit_values(conn: sqlite3.Connection, entry_id: int,
                         change: dict[str, object]) -> None:
    """Edit one audit entry's new_values (then the chain must be rehashed)."""
    sql = trigger_sql(conn, "audit_log_append_only_update")
    conn.execute("DROP TRIGGER audit_log_append_only_update")
    values = json.loads(conn.execute("SELECT new_values FROM audit_log WHERE id = ?",
                                     [entry_id]).fetchone()[0])
    values.update(change)
    conn.execute("UPDATE audit_log SET new_values = ? WHERE id = ?",
                 [json.dumps(values, sort_keys=True), entry_id])
    conn.execute(sql)


def copy_clinic(template: Path, target: Path) -> Path:
    """The template's database, its anchor log and backups, under `target`'s name."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(template, target)
    src_backups = template.parent / "backups"
    if src_backups.is_dir():
        dest = target.parent / "backups"
        dest.mkdir(exist_ok=True)
        for item in src_backups.iterdir():
            shutil.copy(item, dest / item.name.replace(template.stem, target.stem, 1))
    return target


def reopen(path: Path, clock: FixedClock):  # noqa: ANN201 - Store
    return open_store(path, clock)
