"""Side effects of a session, typed: the table name and its orders live here only. Writes
go through the caller's audited Writer, so every change keeps its audit entry."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ketalog.domain.entities import SideEffect
from ketalog.store.records import side_effect_from_row
from ketalog.store.store import Store, Writer

TABLE = "side_effects"
ORDER = "onset_at, id"
ENTRY_ORDER = "id"


def of_session(store: Store, session_id: int) -> list[SideEffect]:
    """A session's side effects by onset (ties by id), struck ones included."""
    return [side_effect_from_row(r)
            for r in store.rows(TABLE, order_by=ORDER, session_id=session_id)]


def of_session_as_entered(store: Store, session_id: int) -> list[SideEffect]:
    """A session's side effects in the order they were recorded, struck ones included
    (the discharge check lists the open ones in this order)."""
    return [side_effect_from_row(r)
            for r in store.rows(TABLE, order_by=ENTRY_ORDER, session_id=session_id)]


def live_of_session(store: Store, session_id: int) -> list[SideEffect]:
    """A session's side effects not struck as entered in error, by onset (ties by id)."""
    return [side_effect_from_row(r) for r in
            store.rows(TABLE, order_by=ORDER, session_id=session_id, struck_reason=None)]


def get(store: Store, side_effect_id: int) -> SideEffect | None:
    """One side effect, or None when there is no row with that id."""
    row = store.get(TABLE, side_effect_id)
    return None if row is None else side_effect_from_row(row)


def insert(w: Writer, values: Mapping[str, object]) -> int:
    """Store one checked side effect (audited by the writer); returns its id."""
    return w.insert(TABLE, values)


def resolve(w: Writer, side_effect_id: int, resolved_at: str, action: str | None = None
            ) -> None:
    """Record when a side effect resolved (and the action taken, when given); audited as
    an update of what changed."""
    changes: dict[str, object] = {"resolved_at": resolved_at}
    if action is not None:
        changes["action"] = action
    w.update(TABLE, side_effect_id, changes)


def insert_many(w: Writer, rows: Iterable[Mapping[str, object]]) -> int:
    """Store many checked side effects at once (demo clinics; one audit entry per row); returns
    how many."""
    return w.insert_many(TABLE, rows)
