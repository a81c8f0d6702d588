"""Patients in the store: the one module that names their table and orders them.
Reads return domain `Patient`s; writes go through the caller's audited `Writer`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ketalog.domain.entities import Patient
from ketalog.store.records import patient_from_row
from ketalog.store.store import Store, Writer

TABLE = "patients"


def patient(store: Store, patient_id: int) -> Patient | None:
    row = store.get(TABLE, patient_id)
    return None if row is None else patient_from_row(row)


def patient_exists(store: Store, patient_id: int) -> bool:
    return store.get(TABLE, patient_id) is not None


def patient_with_mrn(store: Store, mrn: str) -> Patient | None:
    row = store.get_by(TABLE, mrn=mrn.strip())
    return None if row is None else patient_from_row(row)


def any_patient(store: Store) -> bool:
    return store.count(TABLE) > 0


def search(store: Store, text: str, limit: int) -> list[Patient]:
    """By name prefix, MRN or date of birth (the store's indexed search)."""
    return [patient_from_row(r) for r in store.search_patients(text, limit)]


def coded_indication_id(store: Store, patient_id: int) -> int | None:
    """The coded indication a patient is linked to, if any (None also for no patient)."""
    row = store.get(TABLE, patient_id)
    value = None if row is None else row.get("indication_id")
    return None if value is None else int(str(value))


@dataclass(frozen=True)
class UncodedIndication:
    """A patient whose free-text indication is not yet linked to the coded list."""

    patient_id: int
    text: str


def uncoded_indications(store: Store) -> list[UncodedIndication]:
    return [UncodedIndication(int(str(r["id"])), str(r["indication"]))
            for r in store.rows(TABLE, order_by="id", indication_id=None)]


def insert_patient(w: Writer, row: Mapping[str, object]) -> int:
    return w.insert(TABLE, row)


def update_patient(w: Writer, patient_id: int, changes: Mapping[str, object],
                   reason: str = "", expected: Mapping[str, object] | None = None) -> None:
    """`expected`: the values the editing screen started from (edit_conflicts.py)."""
    w.update(TABLE, patient_id, changes, reason=reason, expected=expected)
