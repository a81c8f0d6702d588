"""Notes of a session, typed: the table name and its order live here only. Writes go
through the caller's audited Writer, so every change keeps its audit entry."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ketalog.domain.entities import Note
from ketalog.store.records import note_from_row
from ketalog.store.store import Store, Writer

TABLE = "notes"
ORDER = "at, id"


def of_session(store: Store, session_id: int) -> list[Note]:
    """A session's notes in time order (ties by id), struck ones included."""
    return [note_from_row(r) for r in store.rows(TABLE, order_by=ORDER, session_id=session_id)]


def insert(w: Writer, values: Mapping[str, object]) -> int:
    """Store one note (audited by the writer); returns its id."""
    return w.insert(TABLE, values)


def insert_many(w: Writer, rows: Iterable[Mapping[str, object]]) -> int:
    """Store many checked notes at once (demo clinics; one audit entry per row); returns
    how many."""
    return w.insert_many(TABLE, rows)
