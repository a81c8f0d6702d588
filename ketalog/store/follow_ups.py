"""Follow-ups of a session (pain and mood after discharge), typed: the table name and its
order live here only. Writes go through the caller's audited Writer, so every change
keeps its audit entry. Follow-ups sit outside the signature."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ketalog.domain.entities import FollowUp
from ketalog.store.records import follow_up_from_row
from ketalog.store.store import Store, Writer

TABLE = "follow_ups"
ORDER = "at, id"


def of_session(store: Store, session_id: int) -> list[FollowUp]:
    """A session's follow-ups in time order (ties by id), struck ones included."""
    return [follow_up_from_row(r)
            for r in store.rows(TABLE, order_by=ORDER, session_id=session_id)]


def get(store: Store, follow_up_id: int) -> FollowUp | None:
    """One follow-up, or None when there is no row with that id."""
    row = store.get(TABLE, follow_up_id)
    return None if row is None else follow_up_from_row(row)


def insert(w: Writer, values: Mapping[str, object]) -> int:
    """Store one checked follow-up (audited by the writer); returns its id."""
    return w.insert(TABLE, values)


def insert_many(w: Writer, rows: Iterable[Mapping[str, object]]) -> int:
    """Store many follow-ups at once (the demo's bulk build); returns how many."""
    return w.insert_many(TABLE, rows)


def acknowledge_safety_flag(w: Writer, follow_up_id: int, at: str, by: int | None,
                            note: str) -> None:
    """A clinician has seen the PHQ-9 item-9 flag: when, who and what was done (audited
    as an update, the note as its reason)."""
    w.update(TABLE, follow_up_id, {"safety_ack_at": at, "safety_ack_by": by,
                                   "safety_ack_note": note}, reason=note)
