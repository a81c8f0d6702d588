"""A session from start to signature through the services, as the UI will drive it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ketalog.domain import dosing
from ketalog.domain.entities import Bag, DoseKind, Role
from ketalog.domain.errors import PlausibilityError
from ketalog.services import sessions as svc
from ketalog.services.auth import login
from ketalog.services.errors import (
    AccountLocked,
    InvalidState,
    LoginFailed,
    PermissionDenied,
    WarningsNotAcknowledged,
)
from ketalog.services.patients import PatientInput, create_patient
from ketalog.services.protocols import list_protocols
from ketalog.services.summary import dose_summary, session_rows
from ketalog.store.verify import verify_store
from tests.readiness import ACK_READINESS

pytestmark = pytest.mark.both_engines


@pytest.fixture
def live(staffed, clock):
    store, ctx = staffed
    nurse = ctx["nurse"]
    patient = create_patient(nurse, PatientInput("K0001", "Núñez", "Zoë", date(1980, 5, 17),
                                                 "female", allergies="penicillin",
                                                 indication="neuropathic pain"))
    protocol = next(p for p in list_protocols(nurse) if p.indication == "neuropathic pain")
    session = svc.start_session(nurse, svc.SessionStart(
        patient.id, 82.0, Bag("ketamine", 1.0, 500, "LOT1", date(2027, 6, 30)),
        protocol_id=protocol.id, chair="Chair 2", series_number=1, series_total=6))
    return store, ctx, session


def test_vitals_implausible_stores_nothing_alert_is_stored_and_flagged(live, clock):
    store, ctx, session = live
    before = (store.count("vitals"), store.count("audit_log"))
    with pytest.raises(PlausibilityError, match="HR 900 /min is outside"):
        svc.record_vitals(ctx["nurse"], session.id, {"sbp_mmhg": 120, "dbp_mmhg": 80,
                                                     "hr_bpm": 900})
    assert (store.count("vitals"), store.count("audit_log")) == before
    reading = svc.record_vitals(ctx["nurse"], session.id,
                                {"sbp_mmhg": 185, "dbp_mmhg": 95, "hr_bpm": 88, "spo2_pct": 97})
    assert reading.alerts == ("sbp_mmhg",)
    assert reading.map_mmhg == pytest.approx(125.0) and reading.map_derived
    assert store.count("vitals") == before[0] + 1
    entry = store.audit_rows()[-1]
    assert (entry["action"], entry["table_name"], entry["username"]) == (
        "insert", "vitals", "nurse")
    assert '"sbp_mmhg": 185.0' in str(entry["new_values"])


def test_late_entry_and_future_time(live, clock):
    store, ctx, session = live
    late = svc.record_vitals(ctx["nurse"], session.id, {"hr_bpm": 70},
                             at=clock.now() - timedelta(minutes=25))
    assert late.late_entry
    with pytest.raises(PlausibilityError, match="future"):
        svc.record_vitals(ctx["nurse"], session.id, {"hr_bpm": 70},
                          at=clock.now() + timedelta(minutes=10))


def test_running_total_matches_domain_and_warnings_need_acknowledgement(live, clock):
    store, ctx, session = live
    nurse = ctx["nurse"]
    svc.record_dose(nurse, session.id, DoseKind.START, rate_mg_per_h=41.0)
    assert svc.get_session(store, session.id).status.value == "in_progress"
    clock.advance(minutes=90)
    with pytest.raises(WarningsNotAcknowledged) as info:
        svc.record_dose(nurse, session.id, DoseKind.RATE_CHANGE, rate_mg_per_h=200.0)
    assert "Cohen" in info.value.warnings[0].source
    svc.record_dose(nurse, session.id, DoseKind.RATE_CHANGE, rate_mg_per_h=61.5,
                    reason="pain persists")
    clock.advance(minutes=150)
    svc.record_dose(nurse, session.id, DoseKind.STOP)
    summary = dose_summary(store, session.id, 82.0)
    assert summary.total_mg == pytest.approx(215.25)  # CLINICAL.md worked example
    assert summary.total_mg == pytest.approx(
        dosing.running_total_mg(svc.dose_events(store, session.id), clock.now()))
    clock.advance(minutes=1)
    warned = svc.record_dose(nurse, session.id, DoseKind.BOLUS, bolus_mg=40.0,
                             reason="breakthrough", acknowledge=True)
    assert warned.acknowledged_warnings and "0.35" in warned.acknowledged_warnings[0]


def test_invalid_dose_sequence_rejected(live):
    store, ctx, session = live
    with pytest.raises(PlausibilityError, match="cannot pause"):
        svc.record_dose(ctx["nurse"], session.id, DoseKind.PAUSE)
    assert store.count("dose_events") == 0


def test_roles_nurse_cannot_sign_provider_can_and_signed_is_locked(live, clock):
    store, ctx, session = live
    nurse, provider = ctx["nurse"], ctx["provider"]
    svc.add_score(nurse, session.id, "nrs", "pre", value=8)
    svc.record_dose(nurse, session.id, DoseKind.START, rate_mg_per_h=41.0)
    clock.advance(minutes=60)
    svc.record_vitals(nurse, session.id, {"sbp_mmhg": 130, "dbp_mmhg": 82})
    svc.record_dose(nurse, session.id, DoseKind.STOP)
    svc.add_score(nurse, session.id, "nrs", "post", value=4)
    with pytest.raises(InvalidState, match="must complete"):
        svc.sign_session(provider, session.id, "provider-pass-1")
    with pytest.raises(PermissionDenied):
        svc.complete_session(provider, session.id, acknowledged=ACK_READINESS)
    svc.complete_session(nurse, session.id, escort="husband", acknowledged=ACK_READINESS)
    with pytest.raises(PermissionDenied):
        svc.sign_session(nurse, session.id, "nurse-pass-1")
    with pytest.raises(LoginFailed):
        svc.sign_session(provider, session.id, "wrong password")
    digest = svc.sign_session(provider, session.id, "provider-pass-1")
    assert svc.get_session(store, session.id).status.value == "signed"
    signature = store.rows("signatures", order_by="id", session_id=session.id)[-1]
    assert (signature["content_hash"], signature["meaning"]) == (digest, svc.PROVIDER_SIGNATURE)
    with pytest.raises(InvalidState, match="signed"):
        svc.record_vitals(nurse, session.id, {"hr_bpm": 70})
    with pytest.raises(InvalidState):
        svc.add_note(provider, session.id, "late thought")
    svc.add_addendum(provider, session.id, "correction", "Escort was her sister, not husband.")
    svc.add_follow_up(nurse, session.id, nrs=5, at=clock.advance(days=2), relief_hours=40)
    assert verify_store(store) == []
    [row] = session_rows(store)
    assert (row["nrs_pre"], row["nrs_post"], row["nrs_change_pct"]) == (8, 4, -50.0)
    assert row["total_mg"] == pytest.approx(41.0)
    assert row["status"] == "signed"


def test_admin_functions_refused_to_nurse_through_services(staffed):
    from ketalog.domain.alerts import AlertThresholds
    from ketalog.services.auth import add_user, unlock
    from ketalog.services.protocols import ProtocolInput, create_protocol
    from ketalog.services.settings import set_alert_thresholds

    _, ctx = staffed
    nurse = ctx["nurse"]
    with pytest.raises(PermissionDenied):
        add_user(nurse, "mallory", [Role.ADMIN], "longpassword")
    with pytest.raises(PermissionDenied):
        unlock(nurse, "provider", "because")
    with pytest.raises(PermissionDenied):
        create_protocol(nurse, ProtocolInput("x", "pain", 0, 0.5, 60, 1, None, 10))
    with pytest.raises(PermissionDenied):
        set_alert_thresholds(nurse, AlertThresholds())
    with pytest.raises(PermissionDenied):
        svc.start_session(ctx["admin"], svc.SessionStart(1, 80, Bag("ketamine", 1, 500)))


def test_lockout_after_repeated_failures_and_admin_unlock(staffed, clock):
    from ketalog.services.auth import MAX_FAILED_LOGINS, unlock

    store, ctx = staffed
    for _ in range(MAX_FAILED_LOGINS - 1):
        with pytest.raises(LoginFailed):
            login(store, clock, "nurse", "bad")
    with pytest.raises(AccountLocked):
        login(store, clock, "nurse", "bad")
    with pytest.raises(AccountLocked):
        login(store, clock, "nurse", "nurse-pass-1")  # even the right password
    with pytest.raises(LoginFailed, match="wrong username or password"):
        login(store, clock, "nobody", "whatever")
    unlock(ctx["admin"], "nurse", "verified identity by phone")
    assert login(store, clock, "nurse", "nurse-pass-1").user.failed_logins == 0
    actions = [r["action"] for r in store.audit_rows()]
    assert "login_failed" in actions and "login_refused_locked" in actions
    assert verify_store(store) == []


def test_password_hash_is_argon2id_and_never_audited(staffed):
    store, _ = staffed
    row = store.get_by("users", username="nurse")
    assert str(row["password_hash"]).startswith("$argon2id$")
    assert all("$argon2" not in str(r["new_values"]) for r in store.audit_rows())


def test_patient_validation_and_duplicate_mrn(staffed):
    from ketalog.services.errors import ServiceError
    from ketalog.store.errors import Conflict

    store, ctx = staffed
    with pytest.raises(PlausibilityError) as info:
        create_patient(ctx["nurse"], PatientInput("", "", "x", date(2090, 1, 1)))
    assert {"mrn", "family_name", "birth_date"} <= set(info.value.fields)
    create_patient(ctx["nurse"], PatientInput("M1", "Doe", "Jo", date(1970, 1, 1)))
    with pytest.raises(Conflict, match="MRN"):
        create_patient(ctx["nurse"], PatientInput("M1", "Roe", "Al", date(1971, 1, 1)))
    assert store.count("patients") == 1
    assert not isinstance(Conflict("x"), ServiceError)  # store errors stay store errors


def test_follow_up_must_be_after_the_infusion_ended(live, clock):
    store, ctx, session = live
    nurse = ctx["nurse"]
    svc.record_dose(nurse, session.id, DoseKind.START, rate_mg_per_h=41.0)
    started = clock.now()
    clock.advance(minutes=60)
    svc.record_dose(nurse, session.id, DoseKind.STOP)
    with pytest.raises(PlausibilityError, match="after the infusion ended"):
        svc.add_follow_up(nurse, session.id, nrs=3, at=started + timedelta(minutes=30))
    assert store.count("follow_ups") == 0
