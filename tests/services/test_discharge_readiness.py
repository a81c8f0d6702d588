"""Discharge readiness at Complete: failed checks need a reason each (recorded, printed),
impossible times are refused, a ready patient completes without any acknowledgement."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from ketalog.domain.entities import Bag, DoseKind
from ketalog.domain.errors import PlausibilityError
from ketalog.services import sessions as svc
from ketalog.services.errors import ReadinessNotAcknowledged
from ketalog.services.exports import export_session_pdf
from ketalog.services.patients import PatientInput, create_patient
from ketalog.services.settings import readiness_rules, set_clinic_setting
from tests.reports.test_session_pdf import pages_text

pytestmark = pytest.mark.both_engines

ALDRETE_10 = {"activity": 2, "respiration": 2, "circulation": 2, "consciousness": 2, "spo2": 2}


@pytest.fixture
def stopped(staffed, clock):
    """82 kg, 41 mg/h for 60 min, stopped; a 20 mg bolus 10 min after the stop."""
    store, ctx = staffed
    nurse = ctx["nurse"]
    patient = create_patient(nurse, PatientInput("D0001", "Discharge", "Dana",
                                                 date(1982, 2, 3)))
    s = svc.start_session(nurse, svc.SessionStart(
        patient.id, 82.0, Bag("ketamine", 1.0, 500, "L", date(2027, 6, 30)), chair="Chair 5"))
    svc.record_dose(nurse, s.id, DoseKind.START, rate_mg_per_h=41.0)
    clock.advance(minutes=60)
    svc.record_dose(nurse, s.id, DoseKind.STOP)
    end = clock.now()
    clock.advance(minutes=10)
    svc.record_dose(nurse, s.id, DoseKind.BOLUS, bolus_mg=20.0, acknowledge=True)
    return store, ctx, s.id, end


def test_five_minutes_unscored_no_escort_is_refused_until_each_is_acknowledged(stopped, clock,
                                                                              tmp_path):
    store, ctx, sid, _ = stopped
    nurse = ctx["nurse"]
    svc.add_side_effect(nurse, sid, "nausea", "mild")
    clock.advance(minutes=5)
    with pytest.raises(ReadinessNotAcknowledged) as caught:
        svc.complete_session(nurse, sid)
    codes = {c.code for c in caught.value.checks}
    assert codes == {"observation", "discharge_score", "escort", "open_side_effects"}
    messages = " ".join(c.as_text() for c in caught.value.checks)
    assert "Observed 5 min since the last ketamine dose" in messages  # the bolus after stop
    assert "Ketalar label" in messages and "nausea (mild" in messages
    with pytest.raises(ReadinessNotAcknowledged) as partly:
        svc.complete_session(nurse, sid, acknowledged={"observation": "provider agreed",
                                                       "escort": " "})
    assert {c.code for c in partly.value.checks} == {"discharge_score", "escort",
                                                     "open_side_effects"}
    assert store.get("sessions", sid)["status"] == "in_progress"
    reasons = {"observation": "provider agreed", "discharge_score": "scored on paper",
               "escort": "taxi arranged by family", "open_side_effects": "mild, improving"}
    svc.complete_session(nurse, sid, acknowledged=reasons)
    row = store.get("sessions", sid)
    stored = json.loads(str(row["discharge_readiness"]))
    assert {c["code"]: c["acknowledged"] for c in stored} == reasons
    audit = [r for r in store.audit_rows() if r["table_name"] == "sessions"
             and "status" in json.loads(str(r["new_values"] or "{}"))]
    assert "observation: provider agreed" in str(audit[-1]["reason"])
    pdf = export_session_pdf(nurse, sid, tmp_path / "d.pdf")
    text = " ".join(" ".join(pages_text(pdf)).split())
    assert "Discharge readiness" in text and "FAILED" in text
    assert "taxi arranged by family" in text and "scored on paper" in text


def test_ready_patient_completes_without_acknowledgement(stopped, clock):
    store, ctx, sid, _ = stopped
    nurse = ctx["nurse"]
    clock.advance(minutes=55)
    svc.add_score(nurse, sid, "aldrete", "post", items={**ALDRETE_10, "activity": 1})  # 9
    clock.advance(minutes=5)  # 60 min after the bolus
    checks = svc.complete_session(nurse, sid, escort="partner Sam")
    assert all(c.passed for c in checks)
    assert store.get("sessions", sid)["status"] == "completed"


def test_padss_threshold_is_the_clinic_setting(stopped, clock):
    store, ctx, sid, _ = stopped
    nurse = ctx["nurse"]
    clock.advance(minutes=60)
    svc.add_score(nurse, sid, "padss", "post", items={"vital_signs": 2, "activity": 2,
                                                      "nausea_vomiting": 2, "pain": 1})  # 7
    assert all(c.passed for c in svc.discharge_checks(ctx["nurse"], sid, escort="x"))
    set_clinic_setting(ctx["admin"], "padss_fit_at", 8, reason="stricter")
    assert readiness_rules(nurse).padss_fit_at == 8
    [failed] = [c for c in svc.discharge_checks(nurse, sid, escort="x") if not c.passed]
    assert failed.code == "discharge_score" and "PADSS 7" in failed.message
    with pytest.raises(PlausibilityError):
        set_clinic_setting(ctx["admin"], "observation_min", 5)


def test_impossible_discharge_times_are_refused(stopped, clock):
    from tests.readiness import ACK_READINESS

    store, ctx, sid, end = stopped
    nurse = ctx["nurse"]
    clock.advance(minutes=90)
    for when, words in ((end - timedelta(minutes=30), "before the infusion ended"),
                        (end + timedelta(minutes=5), "before the last ketamine dose"),
                        (clock.now() + timedelta(hours=1), "future")):
        with pytest.raises(PlausibilityError, match=words):
            svc.complete_session(nurse, sid, discharge_at=when, escort="x",
                                 acknowledged=ACK_READINESS)
    assert store.get("sessions", sid)["status"] == "in_progress"
