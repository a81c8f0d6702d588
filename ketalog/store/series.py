"""Treatment series in the store: the one module that names their table and orders them.
Reads return domain `TreatmentSeries` (the planned list adds the patient's identifiers);
writes go through the caller's audited `Writer`, so every change keeps its audit entry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from ketalog.domain.series import TreatmentSeries
from ketalog.store.records import series_from_row
from ketalog.store.sessions import PatientIdentifiers, patient_identifiers
from ketalog.store.store import Store, Writer

TABLE = "treatment_series"
NEWEST_FIRST = "start_date DESC, id DESC"


@dataclass(frozen=True)
class PlannedSeries:
    """An open series with its next session planned, and its patient's identifiers."""

    series: TreatmentSeries
    patient: PatientIdentifiers


def get(store: Store, series_id: int) -> TreatmentSeries | None:
    """One series, or None when there is no row with that id."""
    row = store.get(TABLE, series_id)
    return None if row is None else series_from_row(row)


def of_patient(store: Store, patient_id: int) -> list[TreatmentSeries]:
    """The patient's series, newest first (by start date, ties by id)."""
    return [series_from_row(r)
            for r in store.rows(TABLE, order_by=NEWEST_FIRST, patient_id=patient_id)]


def planned(store: Store, until: date) -> list[PlannedSeries]:
    """Open series with a next session planned on or before `until`, soonest first
    (overdue ones lead), then by family name and id."""
    cursor = store.conn.execute(
        "SELECT t.*, p.mrn, p.family_name, p.given_name, p.birth_date "
        "FROM treatment_series t JOIN patients p ON p.id = t.patient_id "
        "WHERE t.closed_at IS NULL AND t.next_session_on IS NOT NULL "
        "AND t.next_session_on <= ? ORDER BY t.next_session_on, p.family_name, t.id",
        [until.isoformat()])
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, values, strict=True)) for values in cursor]
    return [PlannedSeries(series_from_row(r), patient_identifiers(r)) for r in rows]


def insert(w: Writer, row: Mapping[str, object]) -> int:
    """Store one checked series row (audited by the writer); returns its id."""
    return w.insert(TABLE, row)


def update(w: Writer, series_id: int, changes: Mapping[str, object], reason: str = "",
           expected: Mapping[str, object] | None = None) -> None:
    """Change some columns (only what differs is written and audited, with the reason);
    refused when the row no longer holds `expected` (edit_conflicts.py)."""
    w.update(TABLE, series_id, changes, reason=reason, expected=expected)
