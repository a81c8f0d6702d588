"""FHIR R4 export: bundles validate against fhir.resources' R4B models, and the codes,
units and values that matter are spot-checked, not only 'it validates'."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from ketalog.services.errors import PermissionDenied, ServiceError
from ketalog.services.fhir_export import export_patient_fhir, export_session_fhir
from tests.interop.records import full_session, new_patient

# Required bindings: the R4B models check structure and types, not these value sets.
REQUIRED_CODES = {
    ("Observation", "status"): {"registered", "preliminary", "final", "amended", "corrected",
                                "cancelled", "entered-in-error", "unknown"},
    ("Encounter", "status"): {"planned", "arrived", "triaged", "in-progress", "onleave",
                              "finished", "cancelled", "entered-in-error", "unknown"},
    ("MedicationAdministration", "status"): {"in-progress", "not-done", "on-hold", "completed",
                                             "entered-in-error", "stopped", "unknown"},
    ("AdverseEvent", "actuality"): {"actual", "potential"},
    ("DocumentReference", "status"): {"current", "superseded", "entered-in-error"},
    ("Patient", "gender"): {"male", "female", "other", "unknown"},
}


def validate(bundle: dict) -> None:
    Bundle.model_validate(bundle)
    ids = set()
    for entry in bundle["entry"]:
        resource = entry["resource"]
        kind = resource["resourceType"]
        get_fhir_model_class(kind).model_validate(resource)
        assert entry["fullUrl"] == f"urn:uuid:{resource['id']}"
        ids.add(entry["fullUrl"])
        for (rtype, field), allowed in REQUIRED_CODES.items():
            if rtype == kind:
                assert resource[field] in allowed, (kind, field, resource[field])
    text = json.dumps(bundle)
    for reference in set(re.findall(r'"reference": "(urn:uuid:[^"]+)"', text)):
        assert reference in ids, f"dangling reference {reference}"


def of_type(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def coded(resources: list[dict], code: str) -> list[dict]:
    return [r for r in resources if any(c["code"] == code for c in r["code"]["coding"])]


@pytest.fixture
def exported(staffed, clock, tmp_path):
    store, ctx = staffed
    patient = new_patient(ctx)
    sid = full_session(ctx, patient, clock)
    out = tmp_path / "session.json"
    result = export_session_fhir(ctx["nurse"], sid, out)
    return store, ctx, sid, json.loads(out.read_text(encoding="utf-8")), result, out


def test_session_bundle_validates_and_carries_every_kind(exported):
    store, ctx, sid, bundle, result, out = exported
    validate(bundle)
    assert bundle["type"] == "collection"
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert kinds >= {"Patient", "Practitioner", "Encounter", "Observation",
                     "MedicationAdministration", "AdverseEvent", "Provenance",
                     "DocumentReference"}
    assert result.total == len(bundle["entry"])
    patient = of_type(bundle, "Patient")[0]
    assert patient["identifier"][0]["value"] == "K0001"
    assert patient["identifier"][0]["type"]["coding"][0]["code"] == "MR"
    assert (patient["birthDate"], patient["gender"]) == ("1980-05-17", "female")
    assert patient["name"][0] == {"use": "official", "family": "Núñez", "given": ["Zoë"]}
    encounter = of_type(bundle, "Encounter")[0]
    assert encounter["status"] == "finished"
    assert encounter["period"]["start"] < encounter["period"]["end"]
    roles = {p["type"][0]["coding"][0]["code"]: p["individual"]["reference"]
             for p in encounter["participant"]}
    practitioners = {f"urn:uuid:{p['id']}": p for p in of_type(bundle, "Practitioner")}
    assert practitioners[roles["PPRF"]]["name"][0]["text"] == "Nina Nurse"
    assert practitioners[roles["ATND"]]["name"][0]["text"] == "Dr. Paul Provider"


def test_vitals_codes_units_values_and_artifacts(exported):
    _, _, _, bundle, _, _ = exported
    obs = of_type(bundle, "Observation")
    panels = coded(obs, "85354-9")
    assert len(panels) == 4  # 3 real readings + the artifact
    first = min(panels, key=lambda o: o["effectiveDateTime"])
    comps = {c["code"]["coding"][0]["code"]: c["valueQuantity"] for c in first["component"]}
    assert comps["8480-6"] == {"value": 128, "unit": "mmHg", "system": "http://unitsofmeasure.org",
                               "code": "mm[Hg]"}
    assert comps["8462-4"]["value"] == 82
    assert first["category"][0]["coding"][0]["code"] == "vital-signs"
    assert first["status"] == "final"  # the session is signed
    alert = next(p for p in panels if p["component"][0]["valueQuantity"]["value"] == 186)
    assert alert["component"][0]["interpretation"][0]["coding"][0]["code"] == "A"
    assert "interpretation" not in alert["component"][1]  # DBP 98 is below the alert
    assert alert["device"]["display"] == "device:Philips MX450"
    artifact = next(p for p in panels if p["component"][0]["valueQuantity"]["value"] == 250)
    assert artifact["status"] == "entered-in-error"
    assert "arm moved" in artifact["note"][0]["text"]
    maps = coded(obs, "8478-0")
    derived = next(m for m in maps if m["effectiveDateTime"] == first["effectiveDateTime"])
    assert derived["valueQuantity"]["value"] == pytest.approx(97.3)
    assert derived["derivedFrom"] == [{"reference": f"urn:uuid:{first['id']}"}]
    measured = next(m for m in maps if m["valueQuantity"]["value"] == 127)
    assert "derivedFrom" not in measured
    spo2 = coded(obs, "59408-5")
    assert {c["code"] for c in spo2[0]["code"]["coding"]} == {"59408-5", "2708-6"}
    assert spo2[0]["valueQuantity"]["code"] == "%"
    rr = coded(obs, "9279-1")
    assert 0 in [o["valueQuantity"]["value"] for o in rr]  # a zero stays a zero
    assert rr[0]["valueQuantity"]["code"] == "/min"
    assert coded(obs, "8867-4")[0]["valueQuantity"]["code"] == "/min"
    assert coded(obs, "19891-1")[0]["valueQuantity"] == {
        "value": 38, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}
    temp = coded(obs, "8310-5")[0]["valueQuantity"]
    assert (temp["value"], temp["code"]) == (36.6, "Cel")
    weight = coded(obs, "29463-7")[0]["valueQuantity"]
    assert (weight["value"], weight["code"]) == (82, "kg")


def test_scores(exported):
    _, _, _, bundle, _, _ = exported
    obs = of_type(bundle, "Observation")
    nrs = sorted(coded(obs, "72514-3"), key=lambda o: o["effectiveDateTime"])
    assert [o["valueInteger"] for o in nrs] == [7, 3, 4]  # pre, post, follow-up
    assert [o["extension"][0]["valueCode"] for o in nrs] == ["pre", "post", "follow-up"]
    assert nrs[0]["category"][0]["coding"][0]["code"] == "survey"
    phq9 = coded(obs, "44261-6")[0]
    assert phq9["valueInteger"] == 9 and len(phq9["component"]) == 9
    assert phq9["component"][0]["code"]["coding"][0] == {
        "system": "http://loinc.org", "code": "44250-9",
        "display": "Little interest or pleasure in doing things in last 2 weeks"}
    assert "item 9" in phq9["interpretation"][0]["text"]
    local = {o["code"]["coding"][0]["code"]: o["valueInteger"] for o in obs
             if o["code"]["coding"][0]["system"] == "urn:ketalog:scale"}
    assert local == {"moaas": 4, "cadss6": 6, "aldrete": 10, "padss": 8}
    relief = [o for o in obs if o["code"]["coding"][0]["code"] == "relief-duration"][0]
    assert relief["valueQuantity"]["value"] == 20 and relief["valueQuantity"]["code"] == "h"


def test_ketamine_doses_rates_and_total(exported, staffed):
    store, _, sid, bundle, _, _ = exported
    meds = of_type(bundle, "MedicationAdministration")
    ketamine = [m for m in meds if m["medicationCodeableConcept"].get("text") == "ketamine"]
    assert ketamine and all(m["medicationCodeableConcept"]["coding"][0]["code"] == "6130" for m in ketamine)
    total = next(m for m in ketamine if "partOf" not in m)
    # 20 mg bolus + 41 mg/h x 0.5 h + 20.5 mg/h x 0.5 h + (pause 10 min) + 20.5 mg/h x 1 h
    assert total["dosage"]["dose"]["value"] == pytest.approx(20 + 20.5 + 10.25 + 20.5)
    assert total["dosage"]["dose"]["code"] == "mg"
    assert total["status"] == "completed"
    parts = [m for m in ketamine if "partOf" in m]
    assert all(p["partOf"] == [{"reference": f"urn:uuid:{total['id']}"}] for p in parts)
    bolus = [p for p in parts if "effectiveDateTime" in p]
    assert [b["dosage"]["dose"]["value"] for b in bolus] == [20]
    rates = sorted((p for p in parts if "effectivePeriod" in p),
                   key=lambda p: p["effectivePeriod"]["start"])
    assert [r["dosage"]["rateQuantity"]["value"] for r in rates] == [41, 20.5, 20.5]
    assert rates[0]["dosage"]["rateQuantity"]["code"] == "mg/h"
    assert rates[1]["effectivePeriod"]["end"] < rates[2]["effectivePeriod"]["start"]  # pause
    assert "nausea" in rates[1]["note"][0]["text"]
    assert rates[0]["dosage"]["route"]["coding"][0]["code"] == "47625008"
    adjunct = next(m for m in meds if m["medicationCodeableConcept"].get("text") == "ondansetron")
    assert adjunct["dosage"]["dose"] == {"value": 4, "unit": "mg",
                                         "system": "http://unitsofmeasure.org", "code": "mg"}
    assert adjunct["reasonCode"][0]["text"] == "nausea"


def test_adverse_events_and_provenance(exported):
    _, _, _, bundle, _, _ = exported
    events = {e["event"]["text"].split(" ")[0]: e for e in of_type(bundle, "AdverseEvent")}
    nausea, dizzy = events["nausea"], events["dizziness"]
    assert nausea["severity"]["coding"][0]["code"] == "moderate"
    assert nausea["outcome"]["coding"][0]["code"] == "ongoing"
    assert dizzy["outcome"]["coding"][0]["code"] == "resolved"
    assert nausea["suspectEntity"][0]["instance"]["reference"].startswith("urn:uuid:")
    provenances = of_type(bundle, "Provenance")
    signatures = [p for p in provenances if "activity" not in p]
    codes = sorted(p["signature"][0]["type"][0]["code"] for p in signatures)
    assert codes == ["1.2.840.10065.1.12.1.1", "1.2.840.10065.1.12.1.5"]
    assert all(len(p["extension"][0]["valueString"]) == 64 for p in signatures)
    encounter = of_type(bundle, "Encounter")[0]
    assert {"reference": f"urn:uuid:{encounter['id']}"} in signatures[0]["target"]
    addendum = next(p for p in provenances if "activity" in p)
    assert addendum["activity"]["coding"][0]["code"] == "APPEND"
    docs = {d["type"]["text"] for d in of_type(bundle, "DocumentReference")}
    assert docs == {"Nursing note", "Addendum"}


def test_export_is_audited_with_counts_and_hash(exported):
    store, ctx, sid, bundle, result, out = exported
    entry = store.audit_rows()[-1]
    details = json.loads(str(entry["new_values"]))
    assert (entry["action"], entry["table_name"], entry["username"]) == (
        "export", "sessions", "nurse")
    assert details["format"] == "fhir-r4" and details["sessions"] == [sid]
    assert details["resource_total"] == len(bundle["entry"])
    assert details["resources"]["Patient"] == 1
    assert details["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert details["file"] == str(out.resolve())


def test_same_data_same_resource_ids(exported, tmp_path):
    _, ctx, sid, bundle, _, _ = exported
    again = tmp_path / "again.json"
    export_session_fhir(ctx["provider"], sid, again)
    second = json.loads(again.read_text(encoding="utf-8"))
    assert [e["fullUrl"] for e in second["entry"]] == [e["fullUrl"] for e in bundle["entry"]]
    assert second["id"] != bundle["id"]


def test_patient_with_several_sessions(staffed, clock, tmp_path):
    store, ctx = staffed
    patient = new_patient(ctx)
    ids = [full_session(ctx, patient, clock, series=1),
           full_session(ctx, patient, clock, series=2, sign=False)]
    from ketalog.services import sessions as svc

    live = svc.start_session(ctx["nurse"], svc.SessionStart(
        patient.id, 80.0, svc.Bag("ketamine", 1.0, 500), series_number=3, series_total=6))
    svc.record_dose(ctx["nurse"], live.id, "start", rate_mg_per_h=40.0)
    clock.advance(minutes=30)
    out = tmp_path / "patient.json"
    result = export_patient_fhir(ctx["provider"], patient.id, out)
    bundle = json.loads(out.read_text(encoding="utf-8"))
    validate(bundle)
    assert result.sessions == 3 and len(of_type(bundle, "Patient")) == 1
    encounters = of_type(bundle, "Encounter")
    assert sorted(e["status"] for e in encounters) == ["finished", "finished", "in-progress"]
    subject = f"urn:uuid:{of_type(bundle, 'Patient')[0]['id']}"
    assert all(r["resource"].get("subject", {"reference": subject})["reference"] == subject
               for r in bundle["entry"])
    unsigned = [o for o in of_type(bundle, "Observation") if o["status"] == "preliminary"]
    assert unsigned  # the completed but unsigned session and the live one
    running = [m for m in of_type(bundle, "MedicationAdministration")
               if m["status"] == "in-progress"]
    total = next(m for m in running if "partOf" not in m)
    assert total["dosage"]["dose"]["value"] == pytest.approx(20.0)  # 40 mg/h for 30 min
    assert "end" not in total["effectivePeriod"]
    assert len(ids) == 2


def test_export_needs_a_clinical_role_and_a_folder(exported, staffed, tmp_path):
    store, ctx, sid, *_ = exported
    from ketalog.domain.entities import Role, User
    from ketalog.services.context import Context

    nobody = Context(store, ctx["nurse"].clock, User(99, "x", "X", roles=frozenset()))
    with pytest.raises(PermissionDenied):
        export_session_fhir(nobody, sid, tmp_path / "x.json")
    before = store.count("audit_log")
    with pytest.raises(ServiceError, match="does not exist"):
        export_session_fhir(ctx["nurse"], sid, tmp_path / "missing" / "x.json")
    assert store.count("audit_log") == before
    assert Role.ADMIN  # admins may export too (CLINICAL_READERS)
    export_session_fhir(ctx["admin"], sid, tmp_path / "admin.json")
