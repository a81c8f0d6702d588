"""store/patients.py: typed reads of the patients table and writes through the audited
Writer (each write is one audit entry, as before)."""

from __future__ import annotations

from datetime import date

import pytest

from ketalog.domain.entities import Patient
from ketalog.services.patients import PatientInput, create_patient
from ketalog.store import patients as patient_rows

pytestmark = pytest.mark.both_engines


def test_reads_return_patients(staffed):
    store, ctx = staffed
    assert not patient_rows.any_patient(store)
    made = create_patient(ctx["nurse"], PatientInput(" K9 ", "Okafor", "Ada", date(1980, 2, 3),
                                                     indication="something unusual"))
    assert made.id is not None
    found = patient_rows.patient(store, made.id)
    assert isinstance(found, Patient) and found == made
    assert patient_rows.patient_with_mrn(store, " K9") == made
    assert patient_rows.patient(store, made.id + 1) is None
    assert not patient_rows.patient_exists(store, made.id + 1)
    assert patient_rows.any_patient(store)
    assert patient_rows.search(store, "oka", 10) == [made]
    assert patient_rows.coded_indication_id(store, made.id) is None
    assert patient_rows.uncoded_indications(store) == [
        patient_rows.UncodedIndication(made.id, "something unusual")]


def test_an_update_through_the_writer_is_audited(staffed):
    store, ctx = staffed
    made = create_patient(ctx["nurse"], PatientInput("K8", "Lee", "Min", date(1975, 1, 1)))
    before = store.count("audit_log")
    with store.write(ctx["nurse"].actor) as w:
        patient_rows.update_patient(w, made.id or 0, {"notes": "prefers the window chair"},
                                    reason="told at arrival")
    entries = store.audit_rows()[before:]
    assert [(e["action"], e["table_name"], e["reason"]) for e in entries] == [
        ("update", "patients", "told at arrival")]
    assert patient_rows.patient(store, made.id or 0).notes == "prefers the window chair"
