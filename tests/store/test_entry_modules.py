"""The typed store modules of what is charted in a session and on a patient (scores, side
effects, notes, adjuncts, follow-ups, acknowledgements, allergies, entered-in-error
strikes): written through the audited Writer, read back as domain objects, in their
order, NULL columns read as None or their default, and an audit entry for every write."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from ketalog.domain.acknowledgements import Acknowledgement
from ketalog.domain.allergies import Allergy
from ketalog.domain.clock import to_iso
from ketalog.domain.entities import (
    AdjunctMedication,
    Bag,
    DoseKind,
    FollowUp,
    Note,
    Phase,
    Score,
    Severity,
    SideEffect,
    VitalsReading,
)
from ketalog.services.patients import PatientInput, create_patient
from ketalog.services.sessions import SessionStart, record_dose, record_vitals, start_session
from ketalog.store import (
    acknowledgements,
    adjunct_medications,
    allergies,
    follow_ups,
    notes,
    scores,
    side_effects,
    strikes,
)
from ketalog.store.errors import StoreError

pytestmark = pytest.mark.both_engines


@pytest.fixture
def session(staffed, clock):
    store, ctx = staffed
    nurse = ctx["nurse"]
    patient = create_patient(nurse, PatientInput("E2", "Roe", "Ann", date(1980, 1, 2)))
    s = start_session(nurse, SessionStart(patient.id, 70.0, Bag("ketamine", 1.0, 500)))
    return store, nurse, s.id, patient.id


def _at(clock, minutes: float) -> str:
    return to_iso(clock.now() + timedelta(minutes=minutes))


def _audit(store, table: str, action: str = "insert") -> list[dict[str, object]]:
    return store.audit_rows(action=action, table_name=table)


def test_scores_round_trip_in_time_order_ties_by_id(session, clock):
    store, nurse, sid, _ = session
    entered = {"entered_at": _at(clock, 0), "entered_by": nurse.user.id}
    with store.write(nurse.actor) as w:
        late = scores.insert(w, {"session_id": sid, "at": _at(clock, 10), "scale": "nrs",
                                 "value": 3, "phase": "post", **entered})
        first = scores.insert(w, {"session_id": sid, "at": _at(clock, 0), "scale": "nrs",
                                  "value": 7, "phase": "pre", **entered})
        tie = scores.insert(w, {"session_id": sid, "at": _at(clock, 10), "scale": "phq9",
                                "value": 4, "phase": "post",
                                "items": json.dumps({"q1": 1, "q2": 3}), **entered})
    found = scores.of_session(store, sid)
    assert all(isinstance(s, Score) for s in found)
    assert [s.id for s in found] == [first, late, tie]
    assert found[0].phase is Phase.PRE and found[0].value == 7 and found[0].items == {}
    assert found[2].items == {"q1": 1, "q2": 3}
    assert found[0].struck_reason == "" and found[0].struck_at is None
    assert found[0].struck_by is None
    assert [s.id for s in scores.live_of_scale(store, sid, "nrs")] == [first, late]
    assert [s.id for s in scores.live_of_scale(store, sid, "nrs", phase="post")] == [late]
    assert scores.live_of_scale(store, sid, "aldrete") == []
    assert scores.of_session(store, sid + 1000) == []
    assert len(_audit(store, "scores")) == 3


def test_struck_scores_are_left_out_of_the_live_ones(session, clock):
    store, nurse, sid, _ = session
    with store.write(nurse.actor) as w:
        sc = scores.insert(w, {"session_id": sid, "at": _at(clock, 0), "scale": "nrs",
                               "value": 5, "phase": "pre", "entered_at": _at(clock, 0)})
        strikes.strike(w, scores.TABLE, sc, "wrong patient", _at(clock, 0), nurse.user.id)
    assert scores.live_of_scale(store, sid, "nrs") == []
    (struck,) = scores.of_session(store, sid)
    assert struck.struck_reason == "wrong patient" and struck.struck_by == nurse.user.id
    assert struck.struck_at == clock.now()


def test_side_effects_by_onset_as_entered_and_resolved(session, clock):
    store, nurse, sid, _ = session
    with store.write(nurse.actor) as w:
        later = side_effects.insert(w, {"session_id": sid, "onset_at": _at(clock, 5),
                                        "kind": "nausea", "severity": "mild",
                                        "entered_at": _at(clock, 5)})
        earlier = side_effects.insert(w, {"session_id": sid, "onset_at": _at(clock, 1),
                                          "kind": "dizziness", "severity": "moderate",
                                          "action": "lay down", "entered_at": _at(clock, 5)})
    assert [e.id for e in side_effects.of_session(store, sid)] == [earlier, later]
    assert [e.id for e in side_effects.of_session_as_entered(store, sid)] == [later, earlier]
    effect = side_effects.get(store, later)
    assert isinstance(effect, SideEffect)
    assert effect.severity is Severity.MILD and effect.resolved_at is None
    assert effect.action == "" and effect.note == ""
    assert side_effects.get(store, 10_000) is None
    with store.write(nurse.actor) as w:
        side_effects.resolve(w, later, _at(clock, 20))
        side_effects.resolve(w, earlier, _at(clock, 20), action="fluids")
    resolved = side_effects.get(store, later)
    assert resolved is not None and resolved.resolved_at == clock.now() + timedelta(minutes=20)
    assert resolved.action == ""
    updates = _audit(store, "side_effects", "update")
    assert [json.loads(str(u["new_values"])) for u in updates] == [
        {"resolved_at": _at(clock, 20)}, {"action": "fluids", "resolved_at": _at(clock, 20)}]
    assert json.loads(str(updates[0]["old_values"])) == {"resolved_at": None}
    with store.write(nurse.actor) as w:
        strikes.strike(w, side_effects.TABLE, earlier, "other chair", _at(clock, 0), None)
    assert [e.id for e in side_effects.live_of_session(store, sid)] == [later]


def test_notes_round_trip_in_time_order(session, clock):
    store, nurse, sid, _ = session
    with store.write(nurse.actor) as w:
        second = notes.insert(w, {"session_id": sid, "at": _at(clock, 3),
                                  "author_id": nurse.user.id, "text": "calm",
                                  "entered_at": _at(clock, 3)})
        first = notes.insert(w, {"session_id": sid, "at": _at(clock, 1),
                                 "author_id": nurse.user.id, "text": "arrived",
                                 "entered_at": _at(clock, 3)})
    found = notes.of_session(store, sid)
    assert all(isinstance(n, Note) for n in found)
    assert [(n.id, n.text, n.author_id) for n in found] == [
        (first, "arrived", nurse.user.id), (second, "calm", nurse.user.id)]
    (entry, _) = _audit(store, "notes")[-2:]
    assert json.loads(str(entry["new_values"]))["text"] == "calm"


def test_adjuncts_keep_the_uuid_they_were_given(session, clock):
    store, nurse, sid, _ = session
    with store.write(nurse.actor) as w:
        aid = adjunct_medications.insert(w, {
            "uuid": "adjunct-uuid-1", "session_id": sid, "at": _at(clock, 2),
            "drug": "ondansetron", "dose": 4, "unit": "mg", "route": "IV",
            "entered_at": _at(clock, 2)})
    found = adjunct_medications.get(store, aid)
    assert isinstance(found, AdjunctMedication)
    assert (found.uuid, found.drug, found.dose, found.reason) == ("adjunct-uuid-1",
                                                                  "ondansetron", 4.0, "")
    assert adjunct_medications.of_session(store, sid) == [found]
    assert adjunct_medications.get(store, 10_000) is None
    (entry,) = _audit(store, "adjunct_medications")
    assert entry["row_uuid"] == "adjunct-uuid-1"


def test_follow_ups_with_null_columns_bulk_and_safety_acknowledgement(session, clock):
    store, nurse, sid, _ = session
    with store.write(nurse.actor) as w:
        nrs_only = follow_ups.insert(w, {"session_id": sid, "at": _at(clock, 60 * 24),
                                         "nrs": 4, "entered_at": _at(clock, 0)})
        assert follow_ups.insert_many(w, [
            {"session_id": sid, "at": _at(clock, 60), "nrs": None, "phq9": 12,
             "phq9_items": json.dumps({f"item_{i}": 1 for i in range(1, 9)} | {"item_9": 4}),
             "phq9_total_only": 0, "entered_at": _at(clock, 0)},
            {"session_id": sid, "at": _at(clock, 60), "nrs": 2, "phq9": None,
             "phq9_items": None, "phq9_total_only": None, "entered_at": _at(clock, 0)}]) == 2
        assert follow_ups.insert_many(w, []) == 0
    found = follow_ups.of_session(store, sid)
    assert all(isinstance(f, FollowUp) for f in found)
    assert [f.nrs for f in found] == [None, 2, 4]  # by time, ties by id
    plain = follow_ups.get(store, nrs_only)
    assert plain is not None
    assert (plain.phq9, plain.relief_hours, plain.phq9_items, plain.source) == (None, None,
                                                                                {}, "phone")
    assert not plain.phq9_total_only and plain.safety_ack_at is None
    assert plain.safety_ack_by is None and plain.safety_ack_note == ""
    assert follow_ups.get(store, 10_000) is None
    assert len(_audit(store, "follow_ups")) == 3
    flagged = found[0]
    assert flagged.safety_open and flagged.id is not None
    with store.write(nurse.actor) as w:
        follow_ups.acknowledge_safety_flag(w, flagged.id, _at(clock, 0), nurse.user.id,
                                           "called the patient")
    seen = follow_ups.get(store, flagged.id)
    assert seen is not None and not seen.safety_open
    assert (seen.safety_ack_at, seen.safety_ack_by, seen.safety_ack_note) == (
        clock.now(), nurse.user.id, "called the patient")
    (update,) = _audit(store, "follow_ups", "update")
    assert update["reason"] == "called the patient"


def test_acknowledgements_round_trip_and_pending_alarms(session, clock):
    store, nurse, sid, _ = session
    low = record_vitals(nurse, sid, {"spo2_pct": 85, "hr_bpm": 70})
    record_vitals(nurse, sid, {"spo2_pct": 98})
    (pending,) = acknowledgements.unacknowledged_alert_vitals(store, [sid])
    assert isinstance(pending, VitalsReading) and pending == low and pending.alerts
    assert acknowledgements.unacknowledged_alert_vitals(store, []) == []
    values = {"session_id": sid, "kind": "alarm", "subject_table": "vitals",
              "subject_uuid": low.uuid, "warning": "SpO2 85 %", "response": "probe moved",
              "entered_at": _at(clock, 0), "entered_by": nurse.user.id}
    with store.write(nurse.actor) as w:
        later = acknowledgements.insert(w, {**values, "at": _at(clock, 1)}, reason="probe")
        earlier = acknowledgements.insert(w, {**values, "at": _at(clock, 0),
                                              "entered_by": None})
    found = acknowledgements.of_session(store, sid)
    assert all(isinstance(a, Acknowledgement) for a in found)
    assert [a.id for a in found] == [earlier, later]
    assert found[0].entered_by is None and found[1].entered_by == nurse.user.id
    assert found[0].source == "" and found[1].response == "probe moved"
    assert [e["reason"] for e in _audit(store, "acknowledgements")] == ["probe", ""]
    assert acknowledgements.unacknowledged_alert_vitals(store, [sid]) == []


def test_allergies_active_removed_and_by_patient(session, clock, staffed):
    store, nurse, _, pid = session
    other = create_patient(nurse, PatientInput("E3", "Poe", "Bo", date(1970, 3, 4))).id
    entry = {"created_at": _at(clock, 0), "entered_by": nurse.user.id}
    with store.write(nurse.actor) as w:
        morphine = allergies.insert(w, {"patient_id": pid, "substance": "morphine",
                                        "reaction": "itching", **entry})
        latex = allergies.insert(w, {"patient_id": pid, "substance": "latex", **entry})
        peanut = allergies.insert(w, {"patient_id": other, "substance": "peanut",
                                      "severity": "severe", **entry})
    active = allergies.active_of_patient(store, pid)
    assert [a.id for a in active] == [morphine, latex]
    assert active[1] == Allergy("latex", "", "unknown", latex, active[1].uuid)
    found = allergies.entry(store, morphine)
    assert found is not None and found.patient_id == pid and not found.removed
    assert found.allergy.text == "morphine (itching)"
    assert allergies.entry(store, 10_000) is None
    with store.write(nurse.actor) as w:
        allergies.remove(w, morphine, _at(clock, 0), "disproved")
    removed = allergies.entry(store, morphine)
    assert removed is not None and removed.removed
    assert [a.id for a in allergies.active_of_patient(store, pid)] == [latex]
    by_patient = allergies.active_of_patients(store, [pid, other, other + 1000])
    assert {p: [a.id for a in found] for p, found in by_patient.items()} == {
        pid: [latex], other: [peanut]}
    assert allergies.active_of_patients(store, []) == {}
    (update,) = _audit(store, "allergies", "update")
    assert update["reason"] == "disproved"
    assert json.loads(str(update["new_values"])) == {"removed_at": _at(clock, 0),
                                                     "removed_reason": "disproved"}


def test_strikes_know_their_tables(session, clock):
    store, nurse, sid, _ = session
    dose = record_dose(nurse, sid, DoseKind.BOLUS, bolus_mg=10, acknowledge=True)
    with store.write(nurse.actor) as w:
        note = notes.insert(w, {"session_id": sid, "at": _at(clock, 0),
                                "author_id": nurse.user.id, "text": "x",
                                "entered_at": _at(clock, 0)})
    assert strikes.TABLES == {"dose_events", "adjunct_medications", "side_effects", "scores",
                              "notes", "follow_ups"}
    for table, entry_id in (("dose_events", dose.id), ("notes", note)):
        target = strikes.target(store, table, entry_id)
        assert target == strikes.StrikeTarget(sid, "") and not target.struck
        with store.write(nurse.actor) as w:
            strikes.strike(w, table, entry_id, "typed twice", _at(clock, 0), nurse.user.id)
        struck = strikes.target(store, table, entry_id)
        assert struck is not None and struck.struck and struck.struck_reason == "typed twice"
        (update,) = _audit(store, table, "update")
        assert update["reason"] == "typed twice"
        assert json.loads(str(update["new_values"])) == {
            "struck_reason": "typed twice", "struck_at": _at(clock, 0),
            "struck_by": nurse.user.id}
    assert strikes.target(store, "notes", 10_000) is None
    with pytest.raises(StoreError, match="cannot be marked entered in error"):
        strikes.target(store, "vitals", 1)
    with pytest.raises(StoreError, match="cannot be marked entered in error"), \
            store.write(nurse.actor) as w:
        strikes.strike(w, "patients", 1, "no", _at(clock, 0), None)
