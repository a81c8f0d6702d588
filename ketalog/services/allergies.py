"""A patient's allergies as entries, and the check of a medication against them.

The cross-check reads the structured entries plus any substance of the free-text field
not yet among them, so an allergy typed only as text still warns."""

from __future__ import annotations

from collections.abc import Sequence

from ketalog.domain.allergies import SEVERITIES, Allergy, allergy_warnings, merged
from ketalog.domain.clock import to_iso
from ketalog.domain.dosing import DoseWarning
from ketalog.domain.entities import Patient, Role
from ketalog.domain.errors import PlausibilityError
from ketalog.services.context import RECORD_READERS, Context
from ketalog.services.drug_tables import drug_class_table
from ketalog.services.errors import InvalidState, ServiceError, service_boundary
from ketalog.store import allergies as allergy_rows
from ketalog.store import patients as patient_rows
from ketalog.store.store import Store

EDITORS = (Role.NURSE, Role.PROVIDER)


@service_boundary
def patient_allergies(ctx: Context, patient_id: int) -> list[Allergy]:
    """The entries in force (removed ones stay in the table and the audit log)."""
    ctx.require(*RECORD_READERS, action="see allergies")
    return _entries(ctx.store, patient_id)


def _entries(store: Store, patient_id: int) -> list[Allergy]:
    return allergy_rows.active_of_patient(store, patient_id)


@service_boundary
def effective_allergies(store: Store, patient_id: int) -> list[Allergy]:
    found = patient_rows.patient(store, patient_id)
    if found is None:
        raise ServiceError(f"no patient with id {patient_id}")
    return merged(_entries(store, patient_id), found.allergies)


@service_boundary
def medication_allergy_warnings(store: Store, patient_id: int, drug: str) -> list[DoseWarning]:
    return allergy_warnings(drug, effective_allergies(store, patient_id), drug_class_table())


@service_boundary
def allergy_texts(ctx: Context, patients: Sequence[Patient]) -> dict[int, str]:
    """Patient id -> 'morphine (itching), moderate; penicillin' (entries and the free
    text's other pieces), for lists that show many patients."""
    ctx.require(*RECORD_READERS, action="see allergies")
    entries = allergy_rows.active_of_patients(ctx.store,
                                              [p.id for p in patients if p.id is not None])
    return {p.id: "; ".join(a.text for a in merged(entries.get(p.id, []), p.allergies))
            for p in patients if p.id is not None}


@service_boundary
def add_allergy(ctx: Context, patient_id: int, substance: str, reaction: str = "",
                severity: str = "unknown") -> int:
    ctx.require(*EDITORS, action="record allergies")
    if not substance.strip():
        raise PlausibilityError.single("substance", substance, "required",
                                       "Name the substance the patient is allergic to")
    if severity not in SEVERITIES:
        raise PlausibilityError.single("severity", severity, "/".join(SEVERITIES),
                                       f"Severity must be one of {', '.join(SEVERITIES)}")
    if not patient_rows.patient_exists(ctx.store, patient_id):
        raise ServiceError(f"no patient with id {patient_id}")
    with ctx.store.write(ctx.actor) as w:
        return allergy_rows.insert(w, {
            "patient_id": patient_id, "substance": substance.strip(),
            "reaction": reaction.strip(), "severity": severity,
            "created_at": to_iso(ctx.clock.now()), "entered_by": ctx.user.id})


@service_boundary
def remove_allergy(ctx: Context, allergy_id: int, reason: str) -> None:
    """An entry made in error or disproved: kept, marked removed, with the reason."""
    ctx.require(*EDITORS, action="remove allergies")
    if not reason.strip():
        raise PlausibilityError.single("reason", reason, "required",
                                       "Give a reason for removing the allergy")
    found = allergy_rows.entry(ctx.store, allergy_id)
    if found is None:
        raise ServiceError(f"no allergy entry with id {allergy_id}")
    if found.removed:
        raise InvalidState("this allergy entry was already removed")
    with ctx.store.write(ctx.actor) as w:
        allergy_rows.remove(w, allergy_id, to_iso(ctx.clock.now()), reason.strip())
