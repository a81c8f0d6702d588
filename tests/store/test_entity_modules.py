"""The typed entity modules: domain objects back, time order with ties by id, and writes
that leave the same audit entries as before."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from ketalog.domain.entities import Bag, DoseEvent, VitalsReading
from ketalog.services.patients import PatientInput, create_patient
from ketalog.services.sessions import SessionStart, record_vitals, start_session
from ketalog.store import doses, vitals

pytestmark = pytest.mark.both_engines


@pytest.fixture
def session(staffed, clock):
    store, ctx = staffed
    nurse = ctx["nurse"]
    patient = create_patient(nurse, PatientInput("E1", "Roe", "Ann", datetime(1980, 1, 2).date()))
    s = start_session(nurse, SessionStart(patient.id, 70.0, Bag("ketamine", 1.0, 500)))
    return store, nurse, s.id


def test_vitals_are_typed_and_in_time_order_ties_by_id(session, clock):
    store, nurse, sid = session
    now = clock.now()
    clock.advance(minutes=15)
    a = record_vitals(nurse, sid, {"hr_bpm": 70}, at=now + timedelta(minutes=5))
    b = record_vitals(nurse, sid, {"hr_bpm": 71}, at=now)
    c = record_vitals(nurse, sid, {"hr_bpm": 72}, at=now + timedelta(minutes=5))
    readings = vitals.of_session(store, sid)
    assert all(isinstance(r, VitalsReading) for r in readings)
    assert [r.id for r in readings] == [b.id, a.id, c.id]
    assert vitals.get(store, a.id) == a
    assert vitals.get(store, 10_000) is None
    assert vitals.with_ids(store, [c.id, 10_000]) == {c.id: c}
    assert [row[0] for row in vitals.columns(store, sid, ("hr_bpm",))] == [b.id, a.id, c.id]
    assert vitals.columns(store, sid, ("hr_bpm",))[0][2] == 71.0


def test_mark_artifact_is_audited_as_an_update(session):
    store, nurse, sid = session
    reading = record_vitals(nurse, sid, {"hr_bpm": 70})
    before = len(store.audit_rows(action="update", row_uuid=reading.uuid))
    with store.write(nurse.actor) as w:
        vitals.mark_artifact(w, reading.id, "cuff moved")
    entries = store.audit_rows(action="update", row_uuid=reading.uuid)
    assert len(entries) == before + 1
    assert entries[-1]["reason"] == "cuff moved"
    marked = vitals.get(store, reading.id)
    assert marked is not None and marked.artifact and marked.artifact_reason == "cuff moved"


def test_doses_are_typed(session):
    store, _, sid = session
    assert all(isinstance(d, DoseEvent) for d in doses.of_session(store, sid))
    assert doses.get(store, 10_000) is None


def test_signatures_and_addenda_are_typed_and_in_time_order(session, clock):
    from ketalog.domain.entities import Addendum
    from ketalog.store import signatures

    store, nurse, sid = session
    assert signatures.of_session(store, sid) == []
    with store.write(nurse.actor) as w:
        ids = [signatures.insert_addendum(w, {"session_id": sid, "author_id": nurse.user.id,
                                              "at": at, "reason": "r", "text": text})
               for at, text in (("2026-11-24T15:00:00+00:00", "later"),
                                ("2026-11-24T14:30:00+00:00", "earlier"))]
    added = signatures.addenda_of_session(store, sid)
    assert all(isinstance(a, Addendum) for a in added)
    assert [a.id for a in added] == list(reversed(ids))
    assert [a.text for a in added] == ["earlier", "later"]
    assert len(store.audit_rows(action="insert", table_name="addenda")) == 2
