"""Scores of a session (NRS, PHQ-9, Aldrete...), typed: the table name and its order live
here only. Writes go through the caller's audited Writer, so every change keeps its audit
entry."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ketalog.domain.entities import Score
from ketalog.store.records import score_from_row
from ketalog.store.store import Store, Writer

TABLE = "scores"
ORDER = "at, id"


def of_session(store: Store, session_id: int) -> list[Score]:
    """A session's scores in time order (ties by id), struck ones included."""
    return [score_from_row(r) for r in store.rows(TABLE, order_by=ORDER, session_id=session_id)]


def live_of_scale(store: Store, session_id: int, scale: str,
                  phase: str | None = None) -> list[Score]:
    """A session's scores on one scale (and phase, when given) not struck as entered in
    error, in time order (ties by id)."""
    if phase is None:
        rows = store.rows(TABLE, order_by=ORDER, session_id=session_id, scale=scale,
                          struck_reason=None)
    else:
        rows = store.rows(TABLE, order_by=ORDER, session_id=session_id, scale=scale,
                          phase=phase, struck_reason=None)
    return [score_from_row(r) for r in rows]


def insert(w: Writer, values: Mapping[str, object]) -> int:
    """Store one checked score (audited by the writer); returns its id."""
    return w.insert(TABLE, values)


def insert_many(w: Writer, rows: Iterable[Mapping[str, object]]) -> int:
    """Store many checked scores at once (demo clinics; one audit entry per row); returns
    how many."""
    return w.insert_many(TABLE, rows)
