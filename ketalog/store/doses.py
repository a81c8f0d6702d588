"""Ketamine dose events of a session, typed: the table name and its order live here only."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ketalog.domain.entities import DoseEvent
from ketalog.store.records import dose_from_row
from ketalog.store.store import Store, Writer

TABLE = "dose_events"
ORDER = "at, id"


def of_session(store: Store, session_id: int) -> list[DoseEvent]:
    """A session's doses in time order (ties by id, the order they were given)."""
    return [dose_from_row(r) for r in store.rows(TABLE, order_by=ORDER, session_id=session_id)]


def get(store: Store, dose_id: int) -> DoseEvent | None:
    """One dose event, or None when there is no row with that id."""
    row = store.get(TABLE, dose_id)
    return None if row is None else dose_from_row(row)


def insert(w: Writer, row: Mapping[str, object], reason: str = "") -> int:
    """Store one checked dose row (audited by the writer); returns its id."""
    return w.insert(TABLE, row, reason=reason)


def insert_many(w: Writer, rows: Iterable[Mapping[str, object]]) -> int:
    """Store many checked dose events at once (demo clinics; one audit entry per row); returns
    how many."""
    return w.insert_many(TABLE, rows)
