"""Users' signing key pairs in the store: the one module that names the user_keys table.
Keys are only ever added (triggers refuse changes), through the caller's audited
`Writer`, so each public key enters the audit chain with its row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ketalog.domain.clock import from_iso
from ketalog.store.store import Store, Writer
from ketalog.store.values import as_int, as_text

TABLE = "user_keys"


@dataclass(frozen=True)
class UserKey:
    """One stored key pair: the public key in the clear, the private key sealed under the
    user's password at the time."""

    id: int
    user_id: int
    public_key: str
    sealed_key: str
    reason: str
    created_at: datetime


def _key(row: dict[str, object]) -> UserKey:
    return UserKey(id=as_int(row["id"]), user_id=as_int(row["user_id"]),
                   public_key=as_text(row["public_key"]), sealed_key=as_text(row["sealed_key"]),
                   reason=as_text(row["reason"]), created_at=from_iso(as_text(row["created_at"])))


def current_key(store: Store, user_id: int) -> UserKey | None:
    """The user's newest key pair, or None when they have none yet."""
    rows = store.rows(TABLE, order_by="id DESC", limit=1, user_id=user_id)
    return _key(rows[0]) if rows else None


def insert_key(w: Writer, user_id: int, public_key: str, sealed_key: str, reason: str) -> int:
    """Store a new key pair, made now; returns its id."""
    return w.insert(TABLE, {"user_id": user_id, "public_key": public_key,
                            "sealed_key": sealed_key, "reason": reason, "created_at": w.now})
