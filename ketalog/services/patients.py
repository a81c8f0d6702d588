"""Patients: registration and search, by clinical staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ketalog.domain.clock import to_iso
from ketalog.domain.entities import Patient, Role
from ketalog.domain.errors import FieldProblem, PlausibilityError
from ketalog.services.context import RECORD_READERS, Context
from ketalog.services.errors import ServiceError, service_boundary
from ketalog.services.indications import code_for_text
from ketalog.store import patients as patient_rows

CLINICAL_ROLES = (Role.NURSE, Role.PROVIDER)
SEXES = ("female", "male", "other", "unknown")


@dataclass(frozen=True)
class PatientInput:
    mrn: str
    family_name: str
    given_name: str
    birth_date: date
    sex: str = "unknown"
    allergies: str = ""
    indication: str = ""
    referring_provider: str = ""
    contraindication_screen: str = ""
    consent_date: date | None = None
    notes: str = ""


@service_boundary
def validate_patient(data: PatientInput, today: date) -> dict[str, object]:
    problems: list[FieldProblem] = []
    for name, label in (("mrn", "MRN"), ("family_name", "Family name"),
                        ("given_name", "Given name")):
        if not str(getattr(data, name)).strip():
            problems.append(FieldProblem(name, "", "required", f"{label} is required"))
    if data.birth_date > today:
        problems.append(FieldProblem("birth_date", data.birth_date, f"<= {today}",
                                     "Date of birth cannot be in the future"))
    elif today.year - data.birth_date.year > 120:
        problems.append(FieldProblem("birth_date", data.birth_date, "age <= 120",
                                     "Date of birth gives an age over 120 years"))
    if data.sex not in SEXES:
        problems.append(FieldProblem("sex", data.sex, "/".join(SEXES),
                                     f"Sex must be one of {', '.join(SEXES)}"))
    if data.consent_date and data.consent_date > today:
        problems.append(FieldProblem("consent_date", data.consent_date, f"<= {today}",
                                     "Consent date cannot be in the future"))
    if problems:
        raise PlausibilityError(problems)
    return {"mrn": data.mrn.strip(), "family_name": data.family_name.strip(),
            "given_name": data.given_name.strip(), "birth_date": data.birth_date.isoformat(),
            "sex": data.sex, "allergies": data.allergies.strip(),
            "indication": data.indication.strip(),
            "referring_provider": data.referring_provider.strip(),
            "contraindication_screen": data.contraindication_screen.strip(),
            "consent_date": data.consent_date.isoformat() if data.consent_date else None,
            "notes": data.notes}


@service_boundary
def create_patient(ctx: Context, data: PatientInput) -> Patient:
    ctx.require(*CLINICAL_ROLES, Role.ADMIN, action="register patients")
    row = validate_patient(data, ctx.clock.now().date())
    row["indication_id"] = code_for_text(ctx.store, data.indication)
    row["created_at"] = to_iso(ctx.clock.now())
    with ctx.store.write(ctx.actor) as w:
        pid = patient_rows.insert_patient(w, row)
    return get_patient(ctx, pid)


def _stored(patient: Patient) -> dict[str, object]:
    """The patient's columns as `validate_patient` words them, as they were read."""
    return {"mrn": patient.mrn, "family_name": patient.family_name,
            "given_name": patient.given_name, "birth_date": patient.birth_date.isoformat(),
            "sex": patient.sex, "allergies": patient.allergies,
            "indication": patient.indication, "referring_provider": patient.referring_provider,
            "contraindication_screen": patient.contraindication_screen,
            "consent_date": patient.consent_date.isoformat() if patient.consent_date else None,
            "notes": patient.notes}


@service_boundary
def update_patient(ctx: Context, patient_id: int, data: PatientInput, reason: str = "",
                   loaded: Patient | None = None) -> Patient:
    """Save the form. With `loaded` (the patient as the form showed it), only the fields
    the user changed are written, and only if nobody changed them meanwhile on another
    workstation (else `ChangedMeanwhile`, naming who)."""
    ctx.require(*CLINICAL_ROLES, Role.ADMIN, action="edit patients")
    row = validate_patient(data, ctx.clock.now().date())
    expected: dict[str, object] | None = None
    if loaded is not None:
        before = _stored(loaded)
        row = {k: v for k, v in row.items() if before.get(k) != v}
        expected = {k: before[k] for k in row}
    if loaded is None or "indication" in row:
        row["indication_id"] = code_for_text(ctx.store, data.indication)
    with ctx.store.write(ctx.actor) as w:
        patient_rows.update_patient(w, patient_id, row, reason=reason, expected=expected)
    return get_patient(ctx, patient_id)


@service_boundary
def get_patient(ctx: Context, patient_id: int) -> Patient:
    ctx.require(*RECORD_READERS, action="read patients' records")
    found = patient_rows.patient(ctx.store, patient_id)
    if found is None:
        raise ServiceError(f"no patient with id {patient_id}")
    return found


@service_boundary
def patient_by_mrn(ctx: Context, mrn: str) -> Patient:
    ctx.require(*RECORD_READERS, action="read patients' records")
    found = patient_rows.patient_with_mrn(ctx.store, mrn)
    if found is None:
        raise ServiceError(f"no patient with MRN {mrn}")
    return found


MAX_SEARCH_CHARS = 100  # longer than any MRN, name or date a clinic searches for


@service_boundary
def search_patients(ctx: Context, text: str = "", limit: int = 200) -> list[Patient]:
    ctx.require(*RECORD_READERS, action="read patients' records")
    if len(text.strip()) > MAX_SEARCH_CHARS:
        raise ServiceError(f"the search text is too long ({len(text.strip()):,} characters; "
                           f"at most {MAX_SEARCH_CHARS})")
    return patient_rows.search(ctx.store, text, limit)
