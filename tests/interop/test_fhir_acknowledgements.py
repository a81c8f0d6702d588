"""Acknowledged warnings and alarms travel in the FHIR export as notes on the medication
and on the reading's observations; the bundle still validates."""

from __future__ import annotations

import json
from datetime import date

from ketalog.domain.entities import Bag
from ketalog.services import alarms
from ketalog.services import sessions as svc
from ketalog.services.fhir_export import export_session_fhir
from ketalog.services.patients import PatientInput, create_patient
from tests.interop.test_fhir_export import of_type, validate


def test_acknowledgements_are_notes(staffed, clock, tmp_path):
    store, ctx = staffed
    nurse = ctx["nurse"]
    patient = create_patient(nurse, PatientInput("F9", "Sato", "Yui", date(1977, 7, 7),
                                                 allergies="morphine (itching)"))
    s = svc.start_session(nurse, svc.SessionStart(patient.id, 60, Bag("ketamine", 1, 500)))
    svc.add_adjunct(nurse, s.id, "morphine", 2, "mg", "IV", acknowledgement="provider aware")
    svc.record_vitals(nurse, s.id, {"spo2_pct": 87})
    alarms.acknowledge_alarms(nurse, s.id, "oxygen 2 L/min, SpO2 95 %")
    out = tmp_path / "s.json"
    export_session_fhir(nurse, s.id, out)
    bundle = json.loads(out.read_text(encoding="utf-8"))
    validate(bundle)
    (morphine,) = [m for m in of_type(bundle, "MedicationAdministration")
                   if m["medicationCodeableConcept"]["text"] == "morphine"]
    assert any("allergy acknowledged" in n["text"] and "provider aware" in n["text"]
               for n in morphine["note"])
    notes = [n["text"] for o in of_type(bundle, "Observation") for n in o.get("note", [])]
    assert any("alarm acknowledged" in t and "oxygen 2 L/min" in t for t in notes)


def test_acknowledgements_csv(staffed, clock, tmp_path):
    import csv

    from ketalog.services.csv_export import export_patient_csv

    store, ctx = staffed
    nurse = ctx["nurse"]
    patient = create_patient(nurse, PatientInput("F10", "Sato", "Ren", date(1979, 7, 7)))
    s = svc.start_session(nurse, svc.SessionStart(patient.id, 60, Bag("ketamine", 1, 500)))
    svc.record_vitals(nurse, s.id, {"hr_bpm": 131})
    alarms.acknowledge_alarms(nurse, s.id, "rate halved, HR 98")
    export_patient_csv(nurse, patient.id, tmp_path / "out")
    with open(tmp_path / "out" / "acknowledgements.csv", encoding="utf-8", newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert (row["kind"], row["subject"], row["response"]) == ("alarm", "vitals",
                                                               "rate halved, HR 98")
    assert "HR 131 /min > 120" in row["warning"] and row["by"]
