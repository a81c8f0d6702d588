"""Planning a session: providers to choose from, series position, the planned dose with
numbers worked by hand from CLINICAL.md."""

from __future__ import annotations

from datetime import date

import pytest

from ketalog.domain.dosing import COHEN_2018, PA_LOW_DOSE
from ketalog.domain.entities import Bag, Role
from ketalog.domain.errors import PlausibilityError
from ketalog.services.auth import add_user
from ketalog.services.errors import ServiceError
from ketalog.services.patients import PatientInput, create_patient
from ketalog.services.planning import list_providers, next_series_number, plan_for
from ketalog.services.protocols import ProtocolInput, create_protocol, list_protocols
from ketalog.services.sessions import SessionStart, start_session

pytestmark = pytest.mark.both_engines


@pytest.fixture
def planned(staffed):
    store, ctx = staffed
    nurse = ctx["nurse"]
    patient = create_patient(nurse, PatientInput("P1", "Ito", "Ken", date(1975, 3, 2),
                                                 indication="neuropathic pain"))
    by_name = {p.name: p for p in list_protocols(nurse)}
    return store, ctx, patient, by_name


def _start(ctx, patient_id, protocol_id):
    k, n = next_series_number(ctx, patient_id, protocol_id)
    return start_session(ctx, SessionStart(patient_id, 82.0, Bag("ketamine", 1.0, 500),
                                           protocol_id=protocol_id, series_number=k,
                                           series_total=n))


def test_providers_are_active_users_with_the_provider_role(staffed):
    store, ctx = staffed
    both = add_user(ctx["admin"], "pat", [Role.NURSE, Role.PROVIDER], "long-password",
                    "Alex Both", "NP")
    gone = add_user(ctx["admin"], "old", [Role.PROVIDER], "long-password", "Zed Gone", "MD")
    with store.write(ctx["admin"].actor) as w:
        w.update("users", gone.id, {"active": 0}, reason="left the clinic")
    assert [(u.username, u.credentials) for u in list_providers(ctx["nurse"])] == [
        ("pat", "NP"), ("provider", "MD")]  # by display name: "Alex Both" < "Dr. Paul ..."
    assert both.id in {u.id for u in list_providers(ctx["nurse"])}


def test_series_counts_sessions_on_this_protocol_and_restarts_after_the_last(planned):
    store, ctx, patient, protocols = planned
    nurse = ctx["nurse"]
    pain = protocols["Chronic pain 0.5 mg/kg/h x 4 h"]  # series of 6
    crps = protocols["CRPS 0.35 mg/kg/h x 4 h, 10 days"]
    assert next_series_number(ctx["nurse"], patient.id, pain.id) == (1, 6)
    _start(nurse, patient.id, pain.id)
    _start(nurse, patient.id, pain.id)
    _start(nurse, patient.id, crps.id)  # another protocol: its own series
    other = create_patient(nurse, PatientInput("P2", "Roe", "Ann", date(1990, 1, 1)))
    _start(nurse, other.id, pain.id)  # another patient: not counted
    assert next_series_number(ctx["nurse"], patient.id, pain.id) == (3, 6)
    assert next_series_number(ctx["nurse"], patient.id, crps.id) == (2, 10)
    for _ in range(4):
        _start(nurse, patient.id, pain.id)
    assert next_series_number(ctx["nurse"], patient.id, pain.id) == (1, 6)  # 6 done: new series
    _start(nurse, patient.id, pain.id)
    assert next_series_number(ctx["nurse"], patient.id, pain.id) == (2, 6)
    with pytest.raises(ServiceError, match="no protocol"):
        next_series_number(ctx["nurse"], patient.id, 9999)


def test_plan_for_worked_example_82_kg(planned):
    _, ctx, patient, protocols = planned
    pain = protocols["Chronic pain 0.5 mg/kg/h x 4 h"]  # bolus 0.35 mg/kg, 240 min
    plan = plan_for(ctx["nurse"], patient.id, pain.id, 82.0, 1.0)
    assert plan.rate_mg_per_kg_per_h == 0.5
    assert plan.rate_mg_per_h == pytest.approx(41.0)  # 82 * 0.5
    assert plan.rate_ml_per_h == pytest.approx(41.0)  # at 1 mg/mL
    assert plan.bolus_mg == pytest.approx(28.7)  # 82 * 0.35
    assert plan.planned_total_mg == pytest.approx(28.7 + 164.0)  # 41 mg/h * 4 h = 164 mg
    assert plan.planned_total_mg_per_kg == pytest.approx(192.7 / 82)
    assert plan.duration_min == 240 and plan.warnings == ()  # 0.35 mg/kg is not above 0.35
    half = plan_for(ctx["nurse"], patient.id, pain.id, 82.0, 2.0)
    assert half.rate_ml_per_h == pytest.approx(20.5)  # 41 mg/h at 2 mg/mL


def test_plan_for_high_rate_warns_with_cohen_2018(planned):
    _, ctx, patient, _ = planned
    high = create_protocol(ctx["admin"], ProtocolInput("High 2.5", "neuropathic pain", 0.0,
                                                       2.5, 60, 3, 150.0, 10))
    plan = plan_for(ctx["nurse"], patient.id, high.id, 80.0, 1.0)
    assert plan.rate_mg_per_h == pytest.approx(200.0) and plan.bolus_mg == 0
    codes = {w.code: w for w in plan.warnings}
    assert set(codes) == {"rate_above_guideline", "total_above_protocol_max"}
    assert codes["rate_above_guideline"].source == COHEN_2018
    assert "Cohen" in codes["rate_above_guideline"].as_text()
    assert "2.50 mg/kg/h" in codes["rate_above_guideline"].message
    assert "150 mg" in codes["total_above_protocol_max"].message  # 200 mg over 1 h > 150


def test_plan_for_judges_by_the_protocol_indication(planned):
    _, ctx, _, protocols = planned
    mood = create_patient(ctx["nurse"], PatientInput("P3", "Lee", "Sam", date(1988, 8, 8),
                                                     indication="neuropathic pain"))
    fast = create_protocol(ctx["admin"], ProtocolInput("Mood 1.5", "depression", 0.0, 1.5, 40,
                                                       6, None, 5))
    [warning] = plan_for(ctx["provider"], mood.id, fast.id, 70.0, 1.0).warnings
    assert warning.source == PA_LOW_DOSE  # 1.5 mg/kg/h is above the 1 mg/kg/h low-dose limit
    pain = protocols["Chronic pain 0.5 mg/kg/h x 4 h"]
    assert plan_for(ctx["provider"], mood.id, pain.id, 70.0, 1.0).warnings == ()


def test_plan_for_refuses_implausible_inputs(planned):
    _, ctx, patient, protocols = planned
    pain = protocols["Chronic pain 0.5 mg/kg/h x 4 h"]
    with pytest.raises(PlausibilityError, match="Weight 8 kg is outside"):
        plan_for(ctx["nurse"], patient.id, pain.id, 8.0, 1.0)
    with pytest.raises(PlausibilityError, match="Bag concentration"):
        plan_for(ctx["nurse"], patient.id, pain.id, 82.0, 0.0)
    with pytest.raises(ServiceError, match="no patient"):
        plan_for(ctx["nurse"], 9999, pain.id, 82.0, 1.0)
