"""A demo patient's FHIR export against the FHIR R4 vital-signs profiles, evaluated as
FHIRPath (fhirpathpy) beside the fhir.resources model check: the invariants vs-1, vs-2,
vs-3 and each profile's required code, category, subject, time and UCUM unit; and the
codes ketalog owes receivers (EtCO2 19891-1, PHQ-9 item LOINC codes, RxNorm adjuncts,
a coded Encounter type, the clinic's MRN system)."""

from __future__ import annotations

import json

import pytest
from fhirpathpy import evaluate as _evaluate
from fhirpathpy.models import models

from ketalog.domain.errors import PlausibilityError
from ketalog.interop import fhir_codes as c
from ketalog.services.auth import login
from ketalog.services.demo import create_demo
from ketalog.services.fhir_export import export_patient_fhir, save_mrn_system
from ketalog.services.patients import search_patients
from tests.interop.test_fhir_export import of_type, validate


def evaluate(resource: dict, expression: str) -> list:
    """FHIRPath on a resource with the R4 model (choice types such as value[x] resolve)."""
    return _evaluate(resource, expression, {}, models["r4"])


INVARIANTS = {
    "vs-1": "effective.ofType(dateTime).all($this.toString().length() >= 10)",
    "vs-2": "(component.empty() and hasMember.empty()) implies "
            "(dataAbsentReason.exists() or value.exists())",
    "vs-3": "component.all(value.exists() or dataAbsentReason.exists())",
    "required": "status.exists() and code.exists() and subject.exists() and "
                "effective.exists() and category.coding.where(system = "
                "'http://terminology.hl7.org/CodeSystem/observation-category' and "
                "code = 'vital-signs').exists()",
}
# profile -> (LOINC code the profile fixes, UCUM codes it allows, path of the quantity)
PROFILES = {
    "bp": ("85354-9", {"mm[Hg]"}, "component.value.ofType(Quantity)"),
    "heartrate": ("8867-4", {"/min"}, "value.ofType(Quantity)"),
    "oxygensat": ("2708-6", {"%"}, "value.ofType(Quantity)"),
    "resprate": ("9279-1", {"/min"}, "value.ofType(Quantity)"),
    "bodytemp": ("8310-5", {"Cel", "[degF]"}, "value.ofType(Quantity)"),
    "bodyweight": ("29463-7", {"kg", "g", "[lb_av]"}, "value.ofType(Quantity)"),
    "vitalsigns": (None, {"mm[Hg]"}, "value.ofType(Quantity)"),
}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    from datetime import UTC, datetime

    from ketalog.domain.clock import FixedClock
    from ketalog.store import sessions as sessions_store
    from ketalog.store.connection import open_store

    clock = FixedClock(datetime(2026, 11, 24, 16, 0, tzinfo=UTC))
    folder = tmp_path_factory.mktemp("fhir-profiles")
    store = open_store(folder / "demo.sqlite", clock)
    report = create_demo(store, clock, seed=5)
    admin = login(store, clock, "admin", report.passwords["admin"])
    with pytest.raises(PlausibilityError):
        save_mrn_system(admin, "not a uri", "clinic MRN system")
    save_mrn_system(admin, "urn:oid:1.2.826.0.1.3680043.10.543", "clinic MRN system")
    nurse = login(store, clock, "nurse", report.passwords["nurse"])
    sessions = [s.session for s in sessions_store.listing(store)]
    pid = max({s.patient_id for s in sessions},
              key=lambda p: sum(s.patient_id == p for s in sessions))
    patient = next(p for p in search_patients(nurse, limit=1000) if p.id == pid)
    out = folder / "patient.json"
    export_patient_fhir(nurse, patient.id, out)
    yield json.loads(out.read_text(encoding="utf-8"))
    store.close()


def test_the_export_passes_the_model_check(bundle):
    validate(bundle)


def test_every_vital_sign_meets_its_profile(bundle):
    vitals = [o for o in of_type(bundle, "Observation")
              if evaluate(o, "category.coding.code")[:1] == ["vital-signs"]]
    assert len(vitals) > 50
    seen = set()
    for obs in vitals:
        profiles = obs["meta"]["profile"]
        assert len(profiles) == 1 and profiles[0].startswith(c.PROFILE_BASE)
        name = profiles[0].removeprefix(c.PROFILE_BASE)
        seen.add(name)
        for key, rule in INVARIANTS.items():
            assert evaluate(obs, rule) == [True], (key, obs["id"])
        code, units, path = PROFILES[name]
        if code:
            assert code in evaluate(obs, "code.coding.where(system='http://loinc.org').code")
        quantities = evaluate(obs, path)
        assert quantities, obs["id"]
        for q in quantities:
            assert q["system"] == "http://unitsofmeasure.org" and q["code"] in units
        if name == "bp":
            assert set(evaluate(obs, "component.code.coding.code")) == {"8480-6", "8462-4"}
        assert evaluate(obs, "performer.reference.exists()") == [True]
    assert {"bp", "heartrate", "oxygensat", "resprate", "bodyweight"} <= seen


def test_codes_receivers_expect(bundle):
    observations = of_type(bundle, "Observation")
    codes = {code for o in observations for code in evaluate(o, "code.coding.code")}
    assert "19889-5" not in codes
    patient = of_type(bundle, "Patient")[0]
    assert patient["identifier"][0]["system"] == "urn:oid:1.2.826.0.1.3680043.10.543"
    encounters = of_type(bundle, "Encounter")
    assert all(evaluate(e, "type.coding.where(system='http://snomed.info/sct').code")
               == ["18629005"] for e in encounters)
    phq9 = [o for o in observations if "44261-6" in evaluate(o, "code.coding.code")
            and o.get("component")]
    for obs in phq9:
        items = evaluate(obs, "component.code.coding.code")
        assert set(items) <= {code.code for code in c.PHQ9_ITEMS.values()}
    adjuncts = [m for m in of_type(bundle, "MedicationAdministration")
                if m["medicationCodeableConcept"].get("text") in c.ADJUNCT_RXNORM]
    for m in adjuncts:
        drug = m["medicationCodeableConcept"]["text"]
        assert m["medicationCodeableConcept"]["coding"][0]["code"] == \
            c.ADJUNCT_RXNORM[drug].code


def test_phq9_items_in_panel_order():
    assert [code.code for code in c.PHQ9_ITEMS.values()] == [
        "44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5",
        "44253-3", "44260-8"]
    assert c.VITALS["etco2_mmhg"].codes[0].code == "19891-1"
