"""A patient's allergy entries, typed: the table name and its order live here only.
Entries are never deleted: a removed one keeps its row with when and why. Writes go
through the caller's audited Writer, so every change keeps its audit entry."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ketalog.domain.allergies import Allergy
from ketalog.store.records import allergy_from_row
from ketalog.store.store import Store, Writer
from ketalog.store.values import as_int

TABLE = "allergies"
ORDER = "id"


@dataclass(frozen=True)
class AllergyEntry:
    """One entry with what the Allergy itself does not carry: whose it is and whether it
    was removed."""

    allergy: Allergy
    patient_id: int
    removed: bool  # removed_at is set: kept for the record, no longer in force


def entry(store: Store, allergy_id: int) -> AllergyEntry | None:
    """One entry, removed or not, or None when there is no row with that id."""
    row = store.get(TABLE, allergy_id)
    if row is None:
        return None
    return AllergyEntry(allergy_from_row(row), as_int(row["patient_id"]),
                        row["removed_at"] is not None)


def active_of_patient(store: Store, patient_id: int) -> list[Allergy]:
    """A patient's entries not removed, oldest first."""
    return [allergy_from_row(r) for r in
            store.rows(TABLE, order_by=ORDER, patient_id=patient_id, removed_at=None)]


def active_of_patients(store: Store, patient_ids: Sequence[int]) -> dict[int, list[Allergy]]:
    """Patient id -> entries not removed, oldest first, in one query per 500 patients
    (the patient list); patients without entries are left out."""
    found: dict[int, list[Allergy]] = {}
    ids = [int(i) for i in patient_ids]
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        cursor = store.conn.execute(
            f"SELECT * FROM {TABLE} WHERE removed_at IS NULL AND patient_id IN "
            f"({', '.join('?' * len(chunk))}) ORDER BY {ORDER}", chunk)
        names = [d[0] for d in cursor.description]
        for values in cursor.fetchall():
            row = dict(zip(names, values, strict=True))
            found.setdefault(as_int(row["patient_id"]), []).append(allergy_from_row(row))
    return found


def insert(w: Writer, values: Mapping[str, object]) -> int:
    """Store one checked entry (audited by the writer); returns its id."""
    return w.insert(TABLE, values)


def remove(w: Writer, allergy_id: int, at: str, reason: str) -> None:
    """Mark an entry removed, with when and why (audited as an update with the reason)."""
    w.update(TABLE, allergy_id, {"removed_at": at, "removed_reason": reason}, reason=reason)
