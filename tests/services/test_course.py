"""A patient's course through the services: recorded as the UI records it, read back as
the course PDF and GUI will read it; the clinic settings behind it."""

from __future__ import annotations

import math
import time
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from ketalog.domain.course import ReliefStatus
from ketalog.domain.entities import Bag, DoseKind
from ketalog.domain.errors import PlausibilityError
from ketalog.domain.follow_up_schedule import SlotStatus
from ketalog.services import sessions as svc
from ketalog.services.course import load_course
from ketalog.services.errors import PermissionDenied, ServiceError
from ketalog.services.patients import PatientInput, create_patient
from ketalog.services.settings import (
    follow_up_schedule_hours,
    responder_threshold_pct,
    set_clinic_setting,
)
from ketalog.store.store import SYSTEM
from tests.readiness import ACK_READINESS

pytestmark = pytest.mark.both_engines

DAY = timedelta(days=1)


@pytest.fixture
def patient(staffed):
    store, ctx = staffed
    return create_patient(ctx["nurse"], PatientInput(
        "K0001", "Núñez", "Zoë", date(1980, 5, 17), "female", allergies="penicillin",
        indication="neuropathic pain"))


def infusion(ctx, clock, patient_id: int, pre: int | None, post: int | None,
             effects: tuple[tuple[str, str], ...] = (), stop: bool = True) -> int:
    """2 h at 40 mg/h for 80 kg (0.5 mg/kg/h): 80 mg, 1.0 mg/kg."""
    nurse = ctx["nurse"]
    s = svc.start_session(nurse, svc.SessionStart(
        patient_id, 80.0, Bag("ketamine", 1.0, 500, "LOT1", date(2027, 6, 30)), chair="Chair 1"))
    if pre is not None:
        svc.add_score(nurse, s.id, "nrs", "pre", value=pre)
    svc.record_dose(nurse, s.id, DoseKind.START, rate_mg_per_h=40.0)
    if not stop:
        return s.id
    clock.advance(hours=2)
    svc.record_dose(nurse, s.id, DoseKind.STOP)
    for kind, severity in effects:
        svc.add_side_effect(nurse, s.id, kind, severity)
    if post is not None:
        svc.add_score(nurse, s.id, "nrs", "post", value=post)
    svc.complete_session(nurse, s.id, acknowledged=ACK_READINESS)
    return s.id


@pytest.fixture
def course(staffed, clock, patient):
    """Session A on 24 Nov (8 -> 4, nausea), follow-ups at 24 h (NRS 3) and 72 h (NRS 7);
    session B a week later (6 -> 5, severe hypertension)."""
    store, ctx = staffed
    nurse = ctx["nurse"]
    a = infusion(ctx, clock, patient.id, 8, 4, effects=(("nausea", "mild"),))
    end_a = clock.now()
    clock.set(end_a + 3 * DAY)
    svc.add_follow_up(nurse, a, nrs=3, at=end_a + DAY, relief_hours=30)
    svc.add_follow_up(nurse, a, nrs=7, at=end_a + 3 * DAY, source="clinic")
    clock.set(end_a + 7 * DAY)
    b = infusion(ctx, clock, patient.id, 6, 5, effects=(("hypertension", "severe"),))
    clock.advance(hours=1)
    return store, ctx, a, b, end_a


def test_course_numbers_through_the_services(course, clock):
    store, ctx, a, b, end_a = course
    summary = load_course(ctx["nurse"], 1)
    assert (summary.name, summary.mrn, summary.birth_date) == (
        "NÚÑEZ, Zoë", "K0001", date(1980, 5, 17))
    assert summary.patient.allergies == "penicillin"
    assert summary.now == clock.now()
    c = summary.outcome
    oa, ob = c.sessions
    assert (oa.session.session_id, ob.session.session_id) == (a, b)
    # A: 8 -> 4 = -50 %, responder; level 5.6: NRS 3 at 24 h in, 7 at 72 h out.
    assert (oa.change_pct, oa.responder) == (-50.0, True)
    assert (oa.relief.status, oa.relief.at_least_h, oa.relief.lost_by_h, oa.relief.reported_h) == (
        ReliefStatus.LOST, 24.0, 72.0, 30.0)
    assert oa.session.infusion_end == end_a
    assert oa.session.total_mg == pytest.approx(80.0) and oa.session.mg_per_kg == pytest.approx(1.0)
    # B starts 7 days after A ended (168 h): the 7 d call of A is not needed.
    assert [s.status for s in oa.schedule] == [
        SlotStatus.DONE, SlotStatus.DONE, SlotStatus.NOT_NEEDED]
    assert [s.status for s in ob.schedule] == [SlotStatus.UPCOMING] * 3
    # B: 6 -> 5 = -16.7 %, not a responder; post 5 above level 4.2 -> no relief.
    assert ob.responder is False and ob.relief.status is ReliefStatus.NO_RELIEF
    # course: 1 of 2 evaluable -> exactly half -> not a course responder
    assert (c.session_count, c.responder_count, c.evaluable_count, c.course_responder) == (
        2, 1, 2, False)
    assert c.total_mg == pytest.approx(160.0)
    assert (c.mean_nrs_pre, c.mean_nrs_post) == (7.0, 4.5)  # (8+6)/2, (4+5)/2
    assert c.median_relief_at_least_h == 12.0  # median of 24 h (A) and 0 h (B)
    assert dict(c.side_effects_by_severity) == {"mild": 1, "severe": 1}
    assert dict(c.side_effects_by_kind) == {"hypertension": 1, "nausea": 1}
    assert c.threshold_pct == 30.0 and c.schedule.hours == (24.0, 72.0, 168.0)


def test_date_range_keeps_the_next_infusion_as_the_end_of_relief(course, clock):
    store, ctx, a, b, end_a = course
    only_a = load_course(ctx["nurse"], 1, since=date(2026, 11, 24), until=date(2026, 11, 24), tz=UTC)
    assert [o.session.session_id for o in only_a.outcome.sessions] == [a]
    assert only_a.outcome.sessions[0].next_infusion_start == end_a + 7 * DAY
    only_b = load_course(ctx["nurse"], 1, since=date(2026, 11, 25), tz=UTC)
    assert [o.session.session_id for o in only_b.outcome.sessions] == [b]
    assert load_course(ctx["nurse"], 1, until=date(2026, 11, 23), tz=UTC).outcome.session_count == 0


def test_range_is_by_the_clinic_local_day_of_the_infusion_start(staffed, clock, patient):
    store, ctx = staffed
    clock.set(datetime(2026, 11, 25, 3, 0, tzinfo=UTC))  # 24 Nov 19:00 at UTC-8
    sid = infusion(ctx, clock, patient.id, 5, 2)
    pacific = timezone(timedelta(hours=-8))
    day = date(2026, 11, 24)
    assert [o.session.session_id for o in
            load_course(ctx["nurse"], patient.id, day, day, tz=pacific).outcome.sessions] == [sid]
    assert load_course(ctx["nurse"], patient.id, day, day, tz=UTC).outcome.session_count == 0


def test_running_and_never_started_sessions(staffed, clock, patient):
    store, ctx = staffed
    nurse = ctx["nurse"]
    svc.start_session(nurse, svc.SessionStart(patient.id, 80.0, Bag("ketamine", 1.0, 500)))
    running = infusion(ctx, clock, patient.id, 7, None, stop=False)
    clock.advance(minutes=30)
    summary = load_course(ctx["nurse"], patient.id)
    assert summary.not_started == 1
    [o] = summary.outcome.sessions
    assert o.session.session_id == running and o.session.infusion_end is None
    assert o.session.total_mg == pytest.approx(20.0)  # 40 mg/h for 30 min so far
    assert (o.responder, o.relief.status) == (None, ReliefStatus.NO_FOLLOW_UP)


def test_unknown_patient(staffed):
    store, ctx = staffed
    with pytest.raises(ServiceError, match="no patient"):
        load_course(ctx["nurse"], 999)


def test_settings_default_change_and_feed_the_course(course, clock):
    store, ctx, a, b, _ = course
    admin = ctx["admin"]
    assert responder_threshold_pct(admin) == 30.0
    assert follow_up_schedule_hours(ctx["nurse"]) == (24.0, 72.0, 168.0)
    set_clinic_setting(admin, "responder_threshold_pct", 50, reason="clinic policy 2027")
    set_clinic_setting(admin, "follow_up_hours", [168, 48, 48], reason="fewer calls")
    assert responder_threshold_pct(admin) == 50.0
    assert follow_up_schedule_hours(admin) == (48.0, 168.0)
    audit = [r for r in store.audit_rows() if r["table_name"] == "clinic_settings"][-2:]
    assert [(r["row_uuid"], r["username"], r["reason"]) for r in audit] == [
        ("responder_threshold_pct", "admin", "clinic policy 2027"),
        ("follow_up_hours", "admin", "fewer calls")]
    c = load_course(ctx["nurse"], 1).outcome
    # at 50 %: A 8 -> 4 is exactly -50 %, still a responder; its level is 4, so NRS 3 at
    # 24 h is in relief and NRS 7 at 72 h is not.
    assert c.threshold_pct == 50.0 and c.sessions[0].responder is True
    assert c.sessions[0].relief.level == 4.0
    assert [s.label for s in c.sessions[0].schedule] == ["48 h", "7 d"]
    # explicit arguments win over the settings
    assert load_course(ctx["nurse"], 1, threshold_pct=60).outcome.sessions[0].responder is False


def test_nurse_and_provider_cannot_change_course_settings(staffed):
    store, ctx = staffed
    for who in ("nurse", "provider"):
        with pytest.raises(PermissionDenied):
            set_clinic_setting(ctx[who], "responder_threshold_pct", 40)
        with pytest.raises(PermissionDenied):
            set_clinic_setting(ctx[who], "follow_up_hours", [24])
    assert store.setting("responder_threshold_pct") is None
    assert store.setting("follow_up_hours") is None


@pytest.mark.parametrize("value", [4, 91, True, math.nan, "30"])
def test_responder_threshold_limits(staffed, value):
    _, ctx = staffed
    with pytest.raises(PlausibilityError, match="5-90"):
        set_clinic_setting(ctx["admin"], "responder_threshold_pct", value)


@pytest.mark.parametrize("hours", [[], [0], [2161], [24, -1], "24", [True]])
def test_follow_up_schedule_limits(staffed, hours):
    _, ctx = staffed
    with pytest.raises(PlausibilityError):
        set_clinic_setting(ctx["admin"], "follow_up_hours", hours)


def test_limits_accepted_and_damaged_settings_fall_back(staffed):
    store, ctx = staffed
    set_clinic_setting(ctx["admin"], "responder_threshold_pct", 5)
    set_clinic_setting(ctx["admin"], "follow_up_hours", [1, 2160])
    assert (responder_threshold_pct(ctx["nurse"]), follow_up_schedule_hours(ctx["nurse"])) == (5.0, (1.0, 2160.0))
    with store.write(SYSTEM) as w:
        w.set_setting("responder_threshold_pct", "lots")
        w.set_setting("follow_up_hours", [24, "x"])
    assert (responder_threshold_pct(ctx["nurse"]), follow_up_schedule_hours(ctx["nurse"])) == (
        30.0, (24.0, 72.0, 168.0))


@pytest.mark.sqlite_only("counts the statements through sqlite3's trace callback")
def test_fifty_sessions_without_reading_vitals(staffed, clock, patient):
    """A long course: loading it reads no vitals and stays well under a second."""
    store, ctx = staffed
    start = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
    entered = "2026-11-24T13:00:00.000Z"

    def iso(t: datetime) -> str:
        return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")

    with store.write(SYSTEM) as w:
        for n in range(50):
            t0 = start + n * 7 * DAY
            t1 = t0 + timedelta(hours=4)
            sid = w.insert("sessions", {
                "patient_id": patient.id, "series_number": n + 1, "series_total": 50,
                "weight_kg": 82.0, "bag_drug": "ketamine", "bag_concentration_mg_per_ml": 1.0,
                "bag_volume_ml": 500.0, "status": "completed", "infusion_start_at": iso(t0),
                "infusion_end_at": iso(t1), "created_at": iso(t0)})
            w.insert_many("dose_events", [
                {"session_id": sid, "at": iso(t0), "kind": "start", "rate_mg_per_h": 41.0,
                 "entered_at": entered},
                {"session_id": sid, "at": iso(t1), "kind": "stop", "rate_mg_per_h": None,
                 "entered_at": entered}])
            w.insert_many("scores", [
                {"session_id": sid, "at": iso(t), "scale": "nrs", "value": v, "phase": p,
                 "entered_at": entered}
                for t, v, p in ((t0, 8, "pre"), (t1, 4 + n % 3, "post"))])
            w.insert("side_effects", {"session_id": sid, "onset_at": iso(t0), "kind": "nausea",
                                      "severity": "mild", "entered_at": entered})
            w.insert_many("follow_ups", [
                {"session_id": sid, "at": iso(t1 + timedelta(hours=h)), "nrs": v,
                 "entered_at": entered} for h, v in ((24, 4), (72, 6))])
            w.insert_many("vitals", [
                {"session_id": sid, "at": iso(t0 + timedelta(minutes=m)), "sbp_mmhg": 120.0,
                 "dbp_mmhg": 80.0, "hr_bpm": 70.0, "entered_at": entered}
                for m in range(0, 240, 2)])
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    try:
        started = time.perf_counter()
        summary = load_course(ctx["nurse"], patient.id)
        elapsed = time.perf_counter() - started
    finally:
        store.conn.set_trace_callback(None)
    c = summary.outcome
    assert c.session_count == 50 and c.total_mg == pytest.approx(50 * 164.0)
    # post 4, 5, 6 in turn: 4 and 5 respond (>= 30 % of 8 means <= 5.6), 6 does not.
    assert c.responder_count == 34 and c.course_responder is True
    # level 5.6: NRS 4 at 24 h in, 6 at 72 h out (when post 6 is out at hour 0: 0 h)
    assert c.median_relief_at_least_h == 24.0
    assert not [s for s in statements if "vitals" in s]
    assert elapsed < 2.0, f"load_course took {elapsed:.2f} s for 50 sessions"
