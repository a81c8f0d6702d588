"""Dose events the record must get right: restart after stop, warnings for every rate the
pump carries (refused by the service until acknowledged), slowing without nagging,
entered-in-error marking (struck, never deleted, audited, before signing only) and the
chair state."""

from __future__ import annotations

import json
from datetime import date

import pytest

from ketalog.domain import dosing
from ketalog.domain.chair_state import ChairState, session_state
from ketalog.domain.entities import Bag, DoseKind
from ketalog.domain.errors import PlausibilityError
from ketalog.services import sessions as svc
from ketalog.services.entered_in_error import EntryKind, strike_entry
from ketalog.services.errors import InvalidState, WarningsNotAcknowledged
from ketalog.services.patients import PatientInput, create_patient
from ketalog.services.record import load_record
from ketalog.store.errors import StoreError
from ketalog.store.verify import verify_store
from tests.readiness import ACK_READINESS

pytestmark = pytest.mark.both_engines


@pytest.fixture
def open_session(staffed):
    store, ctx = staffed
    nurse = ctx["nurse"]
    patient = create_patient(nurse, PatientInput(
        "R0001", "Restart", "Rae", date(1970, 1, 2), indication="neuropathic pain"))
    session = svc.start_session(nurse, svc.SessionStart(
        patient.id, 82.0, Bag("ketamine", 1.0, 500, "L", date(2027, 6, 30)), chair="Chair 3"))
    return store, ctx, session.id


def test_restart_after_stop_sums_every_run_and_ends_at_last_stop(open_session, clock):
    store, ctx, sid = open_session
    nurse = ctx["nurse"]
    svc.record_dose(nurse, sid, DoseKind.START, rate_mg_per_h=41.0)
    first_start = clock.now()
    clock.advance(minutes=30)
    svc.record_dose(nurse, sid, DoseKind.STOP, reason="pressed by mistake")
    assert svc.get_session(store, sid).infusion_end_at == clock.now()
    clock.advance(minutes=5)
    with pytest.raises(WarningsNotAcknowledged) as caught:  # 2.5 mg/kg/h: a new rate, warned
        svc.record_dose(nurse, sid, DoseKind.START, rate_mg_per_h=205.0)
    assert caught.value.warnings[0].code == "rate_above_guideline"
    svc.record_dose(nurse, sid, DoseKind.START, rate_mg_per_h=41.0)
    session = svc.get_session(store, sid)
    assert session.infusion_start_at == first_start and session.infusion_end_at is None
    clock.advance(minutes=60)
    svc.record_dose(nurse, sid, DoseKind.STOP)
    session = svc.get_session(store, sid)
    assert session.infusion_end_at == clock.now()  # the last stop
    record = load_record(ctx["nurse"], sid)
    assert record.total_mg(clock.now()) == pytest.approx(41 * 0.5 + 41 * 1.0)
    assert len(dosing.infusion_runs(record.doses)) == 2


def test_resume_with_new_rate_is_warned_and_refused_until_acknowledged(open_session, clock):
    store, ctx, sid = open_session
    nurse = ctx["nurse"]
    svc.record_dose(nurse, sid, DoseKind.START, rate_mg_per_h=41.0)
    clock.advance(minutes=20)
    svc.record_dose(nurse, sid, DoseKind.PAUSE)
    clock.advance(minutes=5)
    with pytest.raises(WarningsNotAcknowledged) as caught:
        svc.record_dose(nurse, sid, DoseKind.RESUME, rate_mg_per_h=200.0)
    assert "2.44 mg/kg/h" in caught.value.warnings[0].message
    assert dosing.infusion_state(svc.dose_events(store, sid)) == "paused"  # nothing stored
    event = svc.record_dose(nurse, sid, DoseKind.RESUME, rate_mg_per_h=200.0, acknowledge=True)
    assert "Cohen" in event.acknowledged_warnings[0]
    clock.advance(minutes=30)
    assert load_record(ctx["nurse"], sid).total_mg(clock.now()) == pytest.approx(41 / 3 + 100)


def test_slowing_for_a_side_effect_needs_no_below_guideline_acknowledgement(open_session, clock):
    _, ctx, sid = open_session
    nurse = ctx["nurse"]
    svc.record_dose(nurse, sid, DoseKind.START, rate_mg_per_h=41.0)
    clock.advance(minutes=20)
    slowed = svc.record_dose(nurse, sid, DoseKind.RATE_CHANGE, rate_mg_per_h=20.5,
                             reason="nausea")
    assert slowed.acknowledged_warnings == ()
    clock.advance(minutes=10)
    again = svc.record_dose(nurse, sid, DoseKind.RATE_CHANGE, rate_mg_per_h=10.0,
                            reason="still nauseous")
    assert again.acknowledged_warnings == ()
    clock.advance(minutes=10)
    with pytest.raises(WarningsNotAcknowledged):  # speeding up above the range still warns
        svc.record_dose(nurse, sid, DoseKind.RATE_CHANGE, rate_mg_per_h=200.0)
    clock.advance(minutes=5)
    svc.record_dose(nurse, sid, DoseKind.STOP)
    clock.advance(minutes=5)
    with pytest.raises(WarningsNotAcknowledged):  # a restart below the range is judged afresh
        svc.record_dose(nurse, sid, DoseKind.START, rate_mg_per_h=10.0)


def test_crps_warning_says_only_what_cohen_says():
    [below] = dosing.rate_warnings(0.3 * 70, 70, "CRPS")
    assert "0.35-2" not in below.message and "0.35 mg/kg/h over 4 h" in below.message
    assert "regimens studied" in below.message and "Cohen" in below.source
    [above] = dosing.rate_warnings(2.5 * 70, 70, "CRPS")
    assert "0.5-2.0 mg/kg/h" in above.message


def test_struck_dose_event_is_kept_excluded_and_audited(open_session, clock):
    store, ctx, sid = open_session
    nurse = ctx["nurse"]
    svc.record_dose(nurse, sid, DoseKind.START, rate_mg_per_h=41.0)
    clock.advance(minutes=10)
    wrong = svc.record_dose(nurse, sid, DoseKind.BOLUS, bolus_mg=30.0, acknowledge=True)
    clock.advance(minutes=50)
    with pytest.raises(PlausibilityError, match="reason"):
        strike_entry(nurse, EntryKind.DOSE, wrong.id, "  ")
    strike_entry(nurse, EntryKind.DOSE, wrong.id, "bolus was for the next chair")
    with pytest.raises(InvalidState, match="already"):
        strike_entry(nurse, EntryKind.DOSE, wrong.id, "twice")
    record = load_record(ctx["nurse"], sid)
    assert len(record.doses) == 2  # never deleted
    [struck] = [d for d in record.doses if d.struck_reason]
    assert struck.struck_by == nurse.user.id and struck.struck_at == clock.now()
    assert record.total_mg(clock.now()) == pytest.approx(41.0)
    audit = [r for r in store.audit_rows() if r["table_name"] == "dose_events"
             and r["row_uuid"] == wrong.uuid and r["action"] == "update"]
    assert audit and audit[-1]["reason"] == "bolus was for the next chair"
    assert json.loads(str(audit[-1]["new_values"]))["struck_reason"] == \
        "bolus was for the next chair"


def test_striking_a_start_a_later_stop_needs_is_refused(open_session, clock):
    store, ctx, sid = open_session
    nurse = ctx["nurse"]
    start = svc.record_dose(nurse, sid, DoseKind.START, rate_mg_per_h=41.0)
    clock.advance(minutes=30)
    stop = svc.record_dose(nurse, sid, DoseKind.STOP)
    with pytest.raises(InvalidState, match="impossible infusion sequence"):
        strike_entry(nurse, EntryKind.DOSE, start.id, "wrong time")
    strike_entry(nurse, EntryKind.DOSE, stop.id, "stop pressed by mistake")
    assert svc.get_session(store, sid).infusion_end_at is None  # running again
    assert dosing.infusion_state(svc.dose_events(store, sid)) == "running"


def test_strike_only_before_signing(open_session, clock):
    store, ctx, sid = open_session
    nurse, provider = ctx["nurse"], ctx["provider"]
    svc.record_dose(nurse, sid, DoseKind.START, rate_mg_per_h=41.0)
    clock.advance(minutes=30)
    svc.record_dose(nurse, sid, DoseKind.STOP)
    bolus = svc.record_dose(nurse, sid, DoseKind.BOLUS, bolus_mg=10.0)
    clock.advance(minutes=70)
    svc.complete_session(nurse, sid, escort="partner", acknowledged=ACK_READINESS)
    with pytest.raises(InvalidState, match="reopen"):
        strike_entry(nurse, EntryKind.DOSE, bolus.id, "wrong")
    svc.reopen_session(nurse, sid, "bolus was for chair 2")
    strike_entry(nurse, EntryKind.DOSE, bolus.id, "bolus was for chair 2")
    svc.complete_session(nurse, sid, escort="partner", acknowledged=ACK_READINESS)
    svc.sign_session(provider, sid, "provider-pass-1")
    assert verify_store(store) == []  # struck rows and readiness are in the signed content
    with pytest.raises(InvalidState, match="addendum"):
        strike_entry(nurse, EntryKind.DOSE, bolus.id, "wrong")
    with pytest.raises(StoreError):  # and not even raw SQL through the store can
        with store.write(nurse.actor) as w:
            w.update("dose_events", bolus.id, {"struck_reason": "sneaky"})


def test_chair_state_follows_the_infusion(open_session, clock):
    store, ctx, sid = open_session
    nurse = ctx["nurse"]

    def state():
        s = svc.get_session(store, sid)
        return session_state(s.status, svc.dose_events(store, sid), clock.now())

    assert state().state is ChairState.ARRIVED
    svc.record_dose(nurse, sid, DoseKind.START, rate_mg_per_h=41.0)
    assert state().text == "infusing"
    clock.advance(minutes=20)
    svc.record_dose(nurse, sid, DoseKind.PAUSE)
    assert state().state is ChairState.PAUSED
    svc.record_dose(nurse, sid, DoseKind.RESUME)
    clock.advance(minutes=20)
    svc.record_dose(nurse, sid, DoseKind.STOP)
    clock.advance(minutes=10)
    svc.record_dose(nurse, sid, DoseKind.BOLUS, bolus_mg=5.0)
    clock.advance(minutes=25)
    assert state().text == "stopped — observing, 25 min since last dose"


def test_struck_entries_export_as_entered_in_error(open_session, clock, tmp_path):
    from ketalog.services.csv_export import export_patient_csv
    from ketalog.services.fhir_export import export_session_fhir
    from tests.services.test_one_total import read_csv

    store, ctx, sid = open_session
    nurse, provider = ctx["nurse"], ctx["provider"]
    svc.record_dose(nurse, sid, DoseKind.START, rate_mg_per_h=41.0)
    bolus = svc.record_dose(nurse, sid, DoseKind.BOLUS, bolus_mg=10.0)
    adjunct = svc.add_adjunct(nurse, sid, "ondansetron", 4, "mg", "IV")
    effect = svc.add_side_effect(nurse, sid, "nausea", "mild")
    svc.add_score(nurse, sid, "nrs", "intra", value=5)
    [score] = [r["id"] for r in store.rows("scores", session_id=sid)]
    note = svc.add_note(nurse, sid, "wrong chart")
    clock.advance(minutes=60)
    svc.record_dose(nurse, sid, DoseKind.STOP)
    for kind, entry in ((EntryKind.DOSE, bolus.id), (EntryKind.ADJUNCT, adjunct),
                        (EntryKind.SIDE_EFFECT, effect), (EntryKind.SCORE, score),
                        (EntryKind.NOTE, note)):
        strike_entry(nurse, kind, int(entry), f"error {kind.value}")  # type: ignore[arg-type]
    clock.advance(minutes=70)
    svc.complete_session(nurse, sid, escort="friend", acknowledged=ACK_READINESS)
    svc.sign_session(provider, sid, "provider-pass-1")
    clock.advance(days=2)
    follow = svc.add_follow_up(nurse, sid, nrs=4, note="called the wrong number")
    strike_entry(nurse, EntryKind.FOLLOW_UP, follow, "another patient answered")  # after signing
    bundle = json.loads(export_session_fhir(nurse, sid, tmp_path / "b.json").path.read_text())
    by_status: dict[str, list[str]] = {}
    for entry in bundle["entry"]:
        res = entry["resource"]
        by_status.setdefault(res.get("status", ""), []).append(res["resourceType"])
    errors = by_status["entered-in-error"]
    assert errors.count("MedicationAdministration") == 2  # the bolus and the ondansetron
    assert "Observation" in errors and "DocumentReference" in errors
    [adverse] = [e["resource"] for e in bundle["entry"]
                 if e["resource"]["resourceType"] == "AdverseEvent"]
    assert {"url": "urn:ketalog:fhir:entered-in-error",
            "valueString": "error side_effects"} in adverse["extension"]
    follow_obs = [e["resource"] for e in bundle["entry"]
                  if e["resource"]["id"].startswith("follow-up")
                  or "Follow-up" in json.dumps(e["resource"].get("note", ""))]
    assert follow_obs and all(o["status"] == "entered-in-error" for o in follow_obs)
    out = export_patient_csv(nurse, store.get("sessions", sid)["patient_id"], tmp_path / "c")
    for kind in ("doses", "medications", "side_effects", "scores", "notes", "follow_ups"):
        rows = read_csv(out.path(kind))
        flagged = [r for r in rows if r["entered_in_error"] == "true"]
        assert len(flagged) == 1, kind
        assert flagged[0]["entered_in_error_reason"]
    assert float(read_csv(out.path("sessions"))[0]["total_ketamine_mg"]) == pytest.approx(41.0)


def test_today_board_shows_the_chair_state(open_session, clock):
    from ketalog.services.summary import today_board

    store, ctx, sid = open_session
    nurse = ctx["nurse"]
    svc.record_dose(nurse, sid, DoseKind.START, rate_mg_per_h=41.0)
    [row] = today_board(nurse, clock.now())
    assert row.state == "infusing"
    clock.advance(minutes=30)
    svc.record_dose(nurse, sid, DoseKind.STOP)
    clock.advance(minutes=12)
    [row] = today_board(nurse, clock.now())
    assert row.state == "stopped — observing, 12 min since last dose"
