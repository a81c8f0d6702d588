"""Break-glass emergency access grants in the store: the one module that names the
emergency_access table and orders it. Reads return `Grant`s; writes go through the
caller's audited `Writer`, so every change keeps its audit entry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ketalog.domain.clock import from_iso, to_iso
from ketalog.store.store import Store, Writer
from ketalog.store.values import as_flag, as_int, as_text, opt_int

TABLE = "emergency_access"


@dataclass(frozen=True)
class Grant:
    """One emergency access: who, from when until when, why, and the admin's review."""

    id: int
    uuid: str
    user_id: int
    started_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    reason: str
    account_was_locked: bool
    reviewed_at: datetime | None
    reviewed_by: int | None
    review_note: str


def _when(value: object) -> datetime | None:
    """A nullable time column (not ended yet, not reviewed yet)."""
    return None if value is None or value == "" else from_iso(as_text(value))


def _grant(row: dict[str, object]) -> Grant:
    return Grant(id=as_int(row["id"]), uuid=as_text(row["uuid"]), user_id=as_int(row["user_id"]),
                 started_at=from_iso(as_text(row["started_at"])),
                 expires_at=from_iso(as_text(row["expires_at"])),
                 ended_at=_when(row["ended_at"]), reason=as_text(row["reason"]),
                 account_was_locked=as_flag(row["account_was_locked"]),
                 reviewed_at=_when(row["reviewed_at"]),
                 reviewed_by=opt_int(row["reviewed_by"]), review_note=as_text(row["review_note"]))


def grant(store: Store, grant_id: int) -> Grant | None:
    row = store.get(TABLE, grant_id)
    return None if row is None else _grant(row)


def awaiting_review(store: Store) -> list[Grant]:
    """Grants no admin has reviewed yet, oldest first."""
    return [_grant(r) for r in store.rows(TABLE, order_by="started_at, id", reviewed_at=None)]


def insert_grant(w: Writer, user_id: int, started_at: datetime, expires_at: datetime,
                 reason: str, account_was_locked: bool) -> int:
    """A new grant (the reason is also the audit entry's); returns its id."""
    return w.insert(TABLE, {"user_id": user_id, "started_at": to_iso(started_at),
                            "expires_at": to_iso(expires_at), "reason": reason,
                            "account_was_locked": int(account_was_locked)}, reason=reason)


def end_grant(w: Writer, grant_id: int, ended_at: datetime, why: str) -> None:
    w.update(TABLE, grant_id, {"ended_at": to_iso(ended_at)}, reason=why)


def review_grant(w: Writer, grant_id: int, reviewed_at: datetime, reviewed_by: int,
                 note: str) -> None:
    w.update(TABLE, grant_id, {"reviewed_at": to_iso(reviewed_at), "reviewed_by": reviewed_by,
                               "review_note": note}, reason=note)
