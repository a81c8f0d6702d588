"""The monitor feed's service: matching, storing by the manual-entry rules, quarantine,
resends, attribution; and a nurse resolving quarantined messages (audited)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from ketalog.domain.clock import to_iso
from ketalog.domain.entities import Bag, DoseKind
from ketalog.domain.errors import PlausibilityError
from ketalog.interop.hl7_ack import build_ack
from ketalog.interop.hl7_build import oru_message
from ketalog.services import sessions as svc
from ketalog.services.device_feed import DeviceFeed, chair_key, location_key, match_session
from ketalog.services.device_quarantine import (
    assign_quarantined,
    discard_quarantined,
    quarantined,
)
from ketalog.services.device_vitals import vitals_since
from ketalog.services.errors import InvalidState, PermissionDenied, ServiceError
from ketalog.services.patients import PatientInput, create_patient
from ketalog.store.device_messages import OpenSession
from ketalog.store.verify import verify_store
from tests.readiness import ACK_READINESS

pytestmark = pytest.mark.both_engines

BP = {"sbp_mmhg": 124.0, "dbp_mmhg": 78.0, "hr_bpm": 66.0, "spo2_pct": 98.0}


def open_session(nurse, mrn: str, chair: str, start: bool = True) -> int:
    patient = create_patient(nurse, PatientInput(mrn, "Test", mrn, date(1980, 1, 1)))
    session = svc.start_session(nurse, svc.SessionStart(
        patient.id, 80.0, Bag("ketamine", 1.0, 500), chair=chair))
    if start:
        svc.record_dose(nurse, session.id, DoseKind.START, rate_mg_per_h=40.0,
                        acknowledge=True)
    return session.id


@pytest.fixture
def feed(staffed, clock):
    store, ctx = staffed
    a = open_session(ctx["nurse"], "K100", "Chair 1")
    b = open_session(ctx["nurse"], "K200", "Chair 2")
    return store, ctx, DeviceFeed(store, clock), a, b


def audit_of(store, table):
    return [r for r in store.audit_rows() if r["table_name"] == table]


def test_stored_by_mrn_with_device_source_and_device_actor(feed, clock):
    store, _ctx, device, a, _b = feed
    at = clock.now() - timedelta(seconds=30)
    result = device.receive(oru_message("M1", BP, at, mrn="K100").encode())
    assert (result.ack_code, result.session_id) == ("AA", a)
    row = store.get("vitals", result.vitals_ids[0])
    assert row["source"] == "device:MONITOR_GW" and row["entered_by"] is None
    assert row["map_mmhg"] == pytest.approx(93.3, abs=0.1) and row["map_derived"] == 1
    entry = audit_of(store, "vitals")[-1]
    assert entry["username"] == "device:MONITOR_GW" and entry["user_id"] is None
    assert entry["reason"] == "HL7 M1"
    ledger = store.get("device_messages", result.message_id)
    assert ledger["status"] == "stored" and ledger["raw"] is None
    assert verify_store(store) == []


def test_stored_by_bed_when_no_mrn(feed, clock):
    _store, _ctx, device, _a, b = feed
    result = device.receive(oru_message("M2", BP, clock.now(), bed="CHAIR2").encode())
    assert (result.ack_code, result.session_id) == ("AA", b)


def test_alerts_flag_like_manual_entry(feed, clock):
    store, _ctx, device, _a, _b = feed
    result = device.receive(oru_message("M3", {**BP, "sbp_mmhg": 190.0}, clock.now(),
                                        mrn="K100").encode())
    assert result.ack_code == "AA"
    assert store.get("vitals", result.vitals_ids[0])["alerts"] == '["sbp_mmhg"]'


@pytest.mark.parametrize("kwargs, values, reason", [
    ({"mrn": "K999"}, BP, "no open session for MRN K999"),
    ({}, BP, "names no patient (PID-3) and no bed"),
    ({"bed": "CHAIR9"}, BP, "no open session for bed"),
    ({"mrn": "K100", "bed": "CHAIR2"}, BP, "belongs to session"),
    ({"mrn": "K100"}, {"hr_bpm": 400.0}, "HR 400 /min is outside the plausible range"),
])
def test_unusable_messages_are_quarantined_with_nothing_stored(feed, clock, kwargs, values,
                                                                reason):
    store, _ctx, device, _a, _b = feed
    vitals_before = store.count("vitals")
    raw = oru_message("Q1", values, clock.now(), **kwargs)
    result = device.receive(raw.encode())
    assert result.ack_code == "AE" and reason in result.text
    assert store.count("vitals") == vitals_before
    row = store.get("device_messages", result.message_id)
    assert row["status"] == "quarantined" and row["raw"] == raw and reason in row["reason"]


def test_unreadable_and_future_messages_are_quarantined(feed, clock):
    store, _ctx, device, _a, _b = feed
    garbage = device.receive(b"\x00\xffnot hl7")
    assert garbage.ack_code == "AR" and garbage.header is None
    future = device.receive(oru_message("F1", BP, clock.now() + timedelta(minutes=6),
                                        mrn="K100").encode())
    assert future.ack_code == "AE" and "6 min ahead (tolerance 5 min)" in future.text
    assert store.count("device_messages", status="quarantined") == 2
    assert store.count("vitals") == 0


def test_implausible_value_is_refused_alone_and_kept_in_quarantine(feed, clock):
    store, _ctx, device, a, _b = feed
    raw = oru_message("P1", {**BP, "hr_bpm": 400.0}, clock.now(), mrn="K100")
    result = device.receive(raw.encode())
    assert result.ack_code == "AA" and result.session_id == a
    row = store.get("vitals", result.vitals_ids[0])
    assert (row["sbp_mmhg"], row["dbp_mmhg"], row["spo2_pct"], row["hr_bpm"]) == (
        124.0, 78.0, 98.0, None)
    assert len(result.warnings) == 1 and "HR 400 /min is outside" in result.warnings[0]
    refusal = [r for r in store.rows("device_messages") if r["status"] == "quarantined"]
    assert len(refusal) == 1 and refusal[0]["part_of"] == result.message_id
    assert "hr_bpm" in refusal[0]["reason"] and refusal[0]["raw"] == raw
    ack = build_ack("AA", result.header, result.text, clock.now(), "A1",
                    warnings=result.warnings).decode()
    assert "MSA|AA|P1" in ack and "|W||||hr_bpm" in ack
    with pytest.raises(InvalidState, match="already stored"):
        assign_quarantined(_ctx["nurse"], refusal[0]["id"], a)
    discard_quarantined(_ctx["nurse"], refusal[0]["id"], "probe artefact")
    assert store.count("vitals") == 1


def test_dbp_above_sbp_refuses_both_and_keeps_the_rest(feed, clock):
    store, _ctx, device, _a, _b = feed
    result = device.receive(oru_message("P2", {"sbp_mmhg": 80.0, "dbp_mmhg": 95.0,
                                               "hr_bpm": 70.0}, clock.now(),
                                        mrn="K100").encode())
    row = store.get("vitals", result.vitals_ids[0])
    assert row["hr_bpm"] == 70.0 and row["sbp_mmhg"] is None and row["dbp_mmhg"] is None
    assert any("must be below SBP" in w for w in result.warnings)


def test_monitor_clock_ahead_within_tolerance_is_stored_at_receive_time(feed, clock):
    store, _ctx, device, _a, _b = feed
    result = device.receive(oru_message("S1", BP, clock.now() + timedelta(minutes=3),
                                        mrn="K100").encode())
    assert result.ack_code == "AA"
    assert store.get("vitals", result.vitals_ids[0])["at"] == to_iso(clock.now())
    assert store.get("device_messages", result.message_id)["clock_ahead_s"] == 180
    assert "monitor clock 180 s ahead" in audit_of(store, "vitals")[-1]["reason"]


def test_resent_message_is_answered_from_the_ledger(feed, clock):
    store, _ctx, device, _a, _b = feed
    payload = oru_message("R1", BP, clock.now(), mrn="K100").encode()
    first, again = device.receive(payload), device.receive(payload)
    assert again.ack_code == "AA" and again.duplicate and store.count("vitals") == 1
    assert again.message_id == first.message_id
    bad = oru_message("R2", BP, clock.now(), mrn="K999").encode()
    device.receive(bad)
    assert device.receive(bad).ack_code == "AE"
    assert store.count("device_messages") == 2


def test_draft_session_takes_readings_but_running_one_wins(staffed, clock):
    store, ctx = staffed
    draft = open_session(ctx["nurse"], "K300", "Chair 3", start=False)
    result = DeviceFeed(store, clock).receive(oru_message("D1", BP, clock.now(),
                                                          bed="CHAIR3").encode())
    assert result.session_id == draft
    rows = [OpenSession(1, "draft", "Chair 4", 1, "X", "2024-01-01T08:00:00Z"),
            OpenSession(2, "in_progress", "Chair 4", 1, "X", "2024-01-01T08:00:00Z")]
    assert match_session(rows, ["X"], ()).session_id == 2
    both = [replace(rows[1], id=3), rows[1]]
    assert "several open sessions" in match_session(both, ["X"], ()).reason


def test_completed_session_gets_no_device_readings(feed, clock):
    store, ctx, device, a, _b = feed
    svc.record_dose(ctx["nurse"], a, DoseKind.STOP)
    svc.complete_session(ctx["nurse"], a, acknowledged=ACK_READINESS)
    result = device.receive(oru_message("C1", BP, clock.now(), mrn="K100").encode())
    assert result.ack_code == "AE" and "no open session" in result.text


def test_chair_keys():
    assert chair_key("Chair 2") == chair_key("CHAIR2") == chair_key("chair-2") == "2"
    assert location_key(("KETA", "", "Bed 3")) == "3"
    assert location_key(("KETA", "R1", "")) == "r1"
    assert location_key(()) == ""


def test_quarantine_assign_and_discard_are_audited(feed, clock):
    store, ctx, device, a, _b = feed
    nurse = ctx["nurse"]
    no_patient = device.receive(oru_message("Q2", BP, clock.now()).encode())
    unreadable = device.receive(b"MSH|^~\\&|GW|||||ORU^R01||P|2.5\r")
    listed = quarantined(nurse)
    assert {m.id for m in listed} == {no_patient.message_id, unreadable.message_id}
    with pytest.raises(PermissionDenied):
        assign_quarantined(ctx["admin"], no_patient.message_id, a)
    with pytest.raises(ServiceError, match="cannot be read"):
        assign_quarantined(nurse, unreadable.message_id, a)

    ids = assign_quarantined(nurse, no_patient.message_id, a, note="monitor had no MRN")
    row = store.get("vitals", ids[0])
    assert row["source"] == "device:MONITOR_GW" and row["entered_by"] == nurse.user.id
    msg = store.get("device_messages", no_patient.message_id)
    assert (msg["status"], msg["session_id"], msg["resolved_by"]) == ("assigned", a,
                                                                      nurse.user.id)
    entry = audit_of(store, "device_messages")[-1]
    assert entry["username"] == "nurse" and "monitor had no MRN" in entry["reason"]
    with pytest.raises(InvalidState):
        assign_quarantined(nurse, no_patient.message_id, a)

    with pytest.raises(PlausibilityError):
        discard_quarantined(nurse, unreadable.message_id, " ")
    discard_quarantined(nurse, unreadable.message_id, "garbage from a test")
    entry = audit_of(store, "device_messages")[-1]
    assert entry["username"] == "nurse" and entry["reason"] == "garbage from a test"
    assert quarantined(nurse) == []
    assert verify_store(store) == []


def test_assigning_implausible_readings_is_refused_and_nothing_changes(feed, clock):
    store, ctx, device, a, _b = feed
    bad = device.receive(oru_message("Q3", {"hr_bpm": 400.0}, clock.now(), mrn="K100").encode())
    with pytest.raises(PlausibilityError):
        assign_quarantined(ctx["nurse"], bad.message_id, a)
    assert store.get("device_messages", bad.message_id)["status"] == "quarantined"
    assert store.count("vitals") == 0


def test_vitals_since_returns_only_newer_rows(feed, clock):
    store, ctx, device, a, _b = feed
    first = device.receive(oru_message("P1", BP, clock.now(), mrn="K100").encode())
    clock.advance(seconds=5)
    second = device.receive(oru_message("P2", BP, clock.now(), mrn="K100").encode())
    assert [v.id for v in vitals_since(ctx["nurse"], a, first.vitals_ids[0])] == list(second.vitals_ids)
    assert len(vitals_since(ctx["nurse"], a, 0)) == 2


def test_stale_open_sessions_and_earlier_readings_are_not_matched(feed, clock):
    store, ctx, device, a, _b = feed
    early = device.receive(oru_message("E1", BP, clock.now() - timedelta(hours=2),
                                       mrn="K100").encode())
    assert early.ack_code == "AE" and "before session" in early.text
    assert store.count("vitals") == 0
    clock.advance(hours=25)  # the session was never completed: tomorrow it takes nothing
    stale = device.receive(oru_message("E2", BP, clock.now(), mrn="K100").encode())
    assert stale.ack_code == "AE" and "no open session for MRN K100" in stale.text
    fresh = open_session(ctx["nurse"], "K101", "Chair 1")
    result = device.receive(oru_message("E3", BP, clock.now(), bed="CHAIR1").encode())
    assert (result.ack_code, result.session_id) == ("AA", fresh)
    assert a != fresh
