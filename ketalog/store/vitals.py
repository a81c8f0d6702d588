"""Vitals readings of a session: the table name and its chart order live here only, and
callers get VitalsReading back rather than untyped rows. Writes go through the caller's
audited Writer, so every change keeps its audit entry."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from ketalog.domain.entities import VitalsReading
from ketalog.store.records import vitals_from_row
from ketalog.store.store import Store, Writer

TABLE = "vitals"
ORDER = "at, id"


def get(store: Store, vitals_id: int) -> VitalsReading | None:
    """One reading, or None when there is no row with that id."""
    row = store.get(TABLE, vitals_id)
    return None if row is None else vitals_from_row(row)


def of_session(store: Store, session_id: int) -> list[VitalsReading]:
    """A session's readings in time order (ties by id, the order they were stored)."""
    return [vitals_from_row(r) for r in store.rows(TABLE, order_by=ORDER, session_id=session_id)]


def with_ids(store: Store, ids: Sequence[int]) -> dict[int, VitalsReading]:
    """Readings by id for the ids that exist (the table's paging asks for a page)."""
    return {int(str(r["id"])): vitals_from_row(r) for r in store.rows_with_ids(TABLE, ids)}


def columns(store: Store, session_id: int, fields: Sequence[str]
            ) -> list[tuple[object, ...]]:
    """Plain tuples of (id, at, *fields, artifact) in time order: a 1 Hz device series
    costs a fraction of full readings."""
    return store.column_values(TABLE, ("id", "at", *fields, "artifact"), order_by=ORDER,
                               session_id=session_id)


def recorded_values(store: Store, session_id: int, fields: Sequence[str]
                    ) -> list[tuple[object, ...]]:
    """(at, source, *fields) of every stored reading, by time: what an import compares
    against to spot readings already recorded."""
    return store.column_values(TABLE, ["at", "source", *fields], "at", session_id=session_id)


def insert(w: Writer, row: Mapping[str, object], reason: str = "") -> int:
    """Store one checked vitals row (audited by the writer); returns its id."""
    return w.insert(TABLE, row, reason=reason)


def insert_reading(w: Writer, row: Mapping[str, object]) -> VitalsReading:
    """Store one checked vitals row (audited by the writer); returns it as stored."""
    return vitals_from_row(w.insert_row(TABLE, row))


def insert_many(w: Writer, rows: Iterable[Mapping[str, object]]) -> int:
    """Store many checked rows at once (an import; audited by the writer); returns how
    many."""
    return w.insert_many(TABLE, rows)


def mark_artifact(w: Writer, vitals_id: int, reason: str) -> None:
    """Strike a reading through with its reason (audited; rows are never deleted)."""
    w.update(TABLE, vitals_id, {"artifact": 1, "artifact_reason": reason}, reason=reason)
