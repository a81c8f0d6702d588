"""The append-only, hash-chained audit log. Every entry's hash covers its own fields and
the previous entry's hash, so editing or deleting any entry (even after dropping the
protective triggers) breaks the chain and `verify` finds it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from ketalog.domain.hashing import GENESIS_HASH, audit_entry_hash, sha256_hex
from ketalog.store.engine_api import Connection

# Secrets are audited as the SHA-256 of their value: the log does not hand them out, and
# verify can still check the row against its history. (Entries written before this read
# "<redacted>" and cannot be compared.)
REDACTED_COLUMNS = frozenset({"password_hash"})
REDACTED_PREFIX = "sha256:"


def redacted(value: object) -> str:
    return REDACTED_PREFIX + sha256_hex(str(value))
HASHED_FIELDS = ("at", "user_id", "username", "action", "table_name", "row_uuid",
                 "old_values", "new_values", "reason")


def values_json(values: Mapping[str, object] | None) -> str | None:
    if values is None:
        return None
    clean = {k: (redacted(v) if k in REDACTED_COLUMNS else v) for k, v in values.items()}
    return json.dumps(clean, sort_keys=True, ensure_ascii=False, default=str)


@dataclass
class AuditChain:
    """Appends entries inside the caller's write transaction."""

    conn: Connection
    #: How an entry is sent: at once by default; the server's engine sends it with the
    #: transaction's next statement or its COMMIT (one round trip fewer per write).
    send: Callable[[str, Sequence[object]], object] | None = None
    _last_hash: str | None = None
    _head: Callable[[], str] | None = None  # the engine's read of the head, not yet taken

    def last_hash(self) -> str:
        if self._last_hash is None and self._head is not None:
            head, self._head = self._head, None
            self._last_hash = head() or GENESIS_HASH
        if self._last_hash is None:
            row = self.conn.execute(
                "SELECT entry_hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
            self._last_hash = row[0] if row else GENESIS_HASH
        return self._last_hash

    def entry(self, *, at: str, user_id: int | None, username: str, action: str,
              table_name: str = "", row_uuid: str = "", old_values: str | None = None,
              new_values: str | None = None, reason: str = "") -> tuple[object, ...]:
        """Build one row (with its chained hash) ready for insertion."""
        prev = self.last_hash()
        fields = {"at": at, "user_id": user_id, "username": username, "action": action,
                  "table_name": table_name, "row_uuid": row_uuid, "old_values": old_values,
                  "new_values": new_values, "reason": reason}
        digest = audit_entry_hash(prev, fields)
        self._last_hash = digest
        return (at, user_id, username, action, table_name, row_uuid, old_values, new_values,
                reason, prev, digest)

    INSERT = ("INSERT INTO audit_log (at, user_id, username, action, table_name, row_uuid, "
              "old_values, new_values, reason, prev_hash, entry_hash) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")

    def append(self, *, at: str, user_id: int | None, username: str, action: str,
               table_name: str = "", row_uuid: str = "", old_values: str | None = None,
               new_values: str | None = None, reason: str = "") -> None:
        (self.send or self.conn.execute)(self.INSERT, self.entry(
            at=at, user_id=user_id, username=username, action=action, table_name=table_name,
            row_uuid=row_uuid, old_values=old_values, new_values=new_values, reason=reason))

    def append_many(self, rows: list[tuple[object, ...]]) -> None:
        self.conn.executemany(self.INSERT, rows)

    def prime(self, head: Callable[[], str]) -> None:
        """The head as the engine reads it under the write lock ("" for an empty log),
        taken when the first entry needs it."""
        self._last_hash, self._head = None, head

    def forget(self) -> None:
        """After a rollback the cached head is no longer valid."""
        self._last_hash = self._head = None


def walk_chain(conn: Connection,
               progress: Callable[[int], None] | None = None) -> Iterator[str]:
    """Yield a description of each break in the chain (nothing when it is sound);
    `progress` gets the number of entries checked so far after each one."""
    prev = GENESIS_HASH
    expected_id = None
    cursor = conn.execute(
        "SELECT id, " + ", ".join(HASHED_FIELDS) + ", prev_hash, entry_hash "
        "FROM audit_log ORDER BY id")
    for done, row in enumerate(cursor, 1):
        if progress:
            progress(done)
        entry_id = row[0]
        fields = dict(zip(HASHED_FIELDS, row[1:10], strict=True))
        stored_prev, stored_hash = row[10], row[11]
        if expected_id is not None and entry_id != expected_id:
            yield f"audit log: entries {expected_id}-{entry_id - 1} are missing"
        if stored_prev != prev:
            yield f"audit log entry {entry_id}: previous-hash link broken (entry removed or reordered)"
        if audit_entry_hash(stored_prev, fields) != stored_hash:
            yield f"audit log entry {entry_id}: content does not match its hash (entry edited)"
        prev = stored_hash
        expected_id = entry_id + 1
