"""Adjunct medications of a session (ondansetron, midazolam...), typed: the table name and
its order live here only. Writes go through the caller's audited Writer, so every change
keeps its audit entry."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ketalog.domain.entities import AdjunctMedication
from ketalog.store.records import adjunct_from_row
from ketalog.store.store import Store, Writer

TABLE = "adjunct_medications"
ORDER = "at, id"


def of_session(store: Store, session_id: int) -> list[AdjunctMedication]:
    """A session's adjuncts in time order (ties by id), struck ones included."""
    return [adjunct_from_row(r)
            for r in store.rows(TABLE, order_by=ORDER, session_id=session_id)]


def get(store: Store, adjunct_id: int) -> AdjunctMedication | None:
    """One adjunct, or None when there is no row with that id."""
    row = store.get(TABLE, adjunct_id)
    return None if row is None else adjunct_from_row(row)


def insert(w: Writer, values: Mapping[str, object]) -> int:
    """Store one checked adjunct (audited by the writer); returns its id. Give the row
    its `uuid` when acknowledgements are to name it as their subject."""
    return w.insert(TABLE, values)


def insert_many(w: Writer, rows: Iterable[Mapping[str, object]]) -> int:
    """Store many checked adjunct medications at once (demo clinics; one audit entry per row); returns
    how many."""
    return w.insert_many(TABLE, rows)
