"""store/sessions.py and store/series.py: typed reads of the sessions and treatment_series
tables (NULLs as None, the orders lists use) and writes through the audited Writer."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from ketalog.domain.entities import InfusionSession, SessionStatus
from ketalog.domain.series import SeriesKind, TreatmentSeries
from ketalog.services.patients import PatientInput, create_patient
from ketalog.store import series as series_rows
from ketalog.store import sessions as session_rows
from ketalog.store.sessions import PatientIdentifiers

pytestmark = pytest.mark.both_engines

T0 = "2026-11-24T08:00:00.000Z"


def at(hour: int, minute: int = 0) -> str:
    return f"2026-11-24T{hour:02d}:{minute:02d}:00.000Z"


def session_row(patient_id: int, created_at: str, **extra: object) -> dict[str, object]:
    return {"patient_id": patient_id, "series_number": 1, "series_total": 1,
            "weight_kg": 70.0, "bag_drug": "ketamine", "bag_concentration_mg_per_ml": 1.0,
            "bag_volume_ml": 500.0, "status": "draft", "created_at": created_at, **extra}


@pytest.fixture
def clinic(staffed):
    store, ctx = staffed
    nurse = ctx["nurse"]
    roe = create_patient(nurse, PatientInput("S1", "Roe", "Ann", date(1980, 1, 2)))
    abe = create_patient(nurse, PatientInput("S2", "Abe", "Bo", date(1990, 3, 4)))
    assert roe.id is not None and abe.id is not None
    return store, nurse, roe.id, abe.id


def test_a_session_reads_back_typed_with_its_nulls_as_none(clinic):
    store, nurse, roe, _ = clinic
    before = store.count("audit_log")
    with store.write(nurse.actor) as w:
        sid = session_rows.insert(w, session_row(roe, T0, chair="Chair 2"))
    session = session_rows.get(store, sid)
    assert isinstance(session, InfusionSession)
    assert session.id == sid and session.patient_id == roe and session.chair == "Chair 2"
    assert session.status is SessionStatus.DRAFT and session.weight_kg == 70.0
    assert (session.protocol_id, session.nurse_id, session.provider_id, session.series_id,
            session.arrival_at, session.infusion_start_at, session.bag.expiry) == (
        None, None, None, None, None, None, None)
    assert session.discharge_readiness == ()
    assert session_rows.get(store, sid + 1) is None
    [entry] = store.audit_rows()[before:]
    assert (entry["action"], entry["table_name"], entry["row_uuid"]) == (
        "insert", "sessions", session.uuid)


def test_an_update_is_audited_with_its_reason_and_only_what_changed(clinic):
    store, nurse, roe, _ = clinic
    with store.write(nurse.actor) as w:
        sid = session_rows.insert(w, session_row(roe, T0, chair="Chair 1"))
    before = store.count("audit_log")
    with store.write(nurse.actor) as w:
        session_rows.update(w, sid, {"chair": "Chair 3", "status": "draft"}, reason="moved")
    [entry] = store.audit_rows()[before:]
    assert (entry["action"], entry["table_name"], entry["reason"]) == (
        "update", "sessions", "moved")
    assert json.loads(entry["old_values"]) == {"chair": "Chair 1"}
    assert json.loads(entry["new_values"]) == {"chair": "Chair 3"}
    found = session_rows.get(store, sid)
    assert found is not None and found.chair == "Chair 3"


def test_the_listing_is_oldest_first_by_when_each_began_ties_by_id(clinic):
    store, nurse, roe, abe = clinic
    with store.write(nurse.actor) as w:
        late = session_rows.insert(w, session_row(roe, at(7), infusion_start_at=at(11)))
        tie_a = session_rows.insert(w, session_row(abe, at(9)))
        tie_b = session_rows.insert(w, session_row(roe, at(9), status="in_progress"))
        early = session_rows.insert(w, session_row(abe, at(8)))
    listed = session_rows.listing(store)
    assert [s.session_id for s in listed] == [early, tie_a, tie_b, late]
    first = listed[0]
    assert first.patient == PatientIdentifiers("S2", "Abe", "Bo", date(1990, 3, 4))
    assert first.patient.name == "ABE, Bo"
    assert first.created_at == datetime(2026, 11, 24, 8, tzinfo=UTC)
    assert first.began_at == first.created_at  # not started: when it was opened
    assert listed[-1].began_at == datetime(2026, 11, 24, 11, tzinfo=UTC)
    assert [s.session_id for s in session_rows.listing(store, patient_id=roe)] == [tie_b, late]
    since = datetime(2026, 11, 24, 9, tzinfo=UTC)
    assert [s.session_id for s in session_rows.listing(store, since=since)] == [
        tie_a, tie_b, late]
    assert [s.session_id for s in session_rows.listing(store, statuses=["in_progress"])] == [
        tie_b]
    assert session_rows.listing(store, patient_id=roe, statuses=["signed"]) == []


def test_counts_and_signed_ids(clinic):
    store, nurse, roe, abe = clinic
    protocol_id = int(store.conn.execute("SELECT min(id) FROM protocols").fetchone()[0])
    with store.write(nurse.actor) as w:
        series_id = series_rows.insert(w, {
            "patient_id": roe, "kind": "induction", "planned_sessions": 6,
            "start_date": "2026-11-24", "goal": "NRS below 4", "created_at": T0})
        a = session_rows.insert(w, session_row(roe, at(8), protocol_id=protocol_id,
                                               series_id=series_id))
        b = session_rows.insert(w, session_row(abe, at(9), protocol_id=protocol_id))
        session_rows.insert(w, session_row(roe, at(10)))
    assert session_rows.count_in_series(store, series_id) == 1
    assert session_rows.count_in_series(store, None) == 2  # outside any series
    assert session_rows.count_on_protocol(store, protocol_id) == 2
    assert session_rows.count_on_protocol(store, protocol_id, patient_id=abe) == 1
    assert session_rows.signed_ids(store) == []
    with store.write(nurse.actor) as w:
        session_rows.update(w, b, {"status": "signed"})
        session_rows.update(w, a, {"status": "signed"})
    assert session_rows.signed_ids(store) == [a, b]


def test_the_entries_under_a_session_are_typed_and_in_time_order(clinic):
    store, nurse, roe, _ = clinic
    with store.write(nurse.actor) as w:
        sid = session_rows.insert(w, session_row(roe, T0))
        other = session_rows.insert(w, session_row(roe, T0))
        for when in (at(9, 30), at(9)):
            w.insert("side_effects", {"session_id": sid, "onset_at": when, "kind": "nausea",
                                      "severity": "mild", "entered_at": when})
            w.insert("notes", {"session_id": sid, "at": when, "author_id": nurse.user.id,
                               "text": f"note at {when}", "entered_at": when})
            w.insert("vitals", {"session_id": sid, "at": when, "hr_bpm": 70.0,
                                "entered_at": when})
        w.insert("notes", {"session_id": other, "at": at(9), "author_id": nurse.user.id,
                           "text": "another session", "entered_at": at(9)})
    children = session_rows.children(store, sid)
    assert [e.onset_at.hour for e in children.side_effects] == [9, 9]
    assert [e.onset_at.minute for e in children.side_effects] == [0, 30]
    assert [n.text for n in children.notes] == [f"note at {at(9)}", f"note at {at(9, 30)}"]
    assert [v.at.minute for v in children.vitals] == [0, 30]
    assert children.doses == children.adjuncts == children.scores == ()
    assert children.notes[0].struck_at is None and children.notes[0].struck_by is None
    assert session_rows.children(store, sid, with_vitals=False).vitals == ()
    raw = session_rows.child_rows(store, sid)
    assert list(raw) == ["vitals", "dose_events", "adjunct_medications", "scores",
                         "side_effects", "notes"]
    assert [r["text"] for r in raw["notes"]] == [n.text for n in children.notes]
    assert "vitals" not in session_rows.child_rows(store, sid, skip=("vitals",))


def test_a_series_reads_back_typed_and_newest_first(clinic):
    store, nurse, roe, abe = clinic
    before = store.count("audit_log")
    with store.write(nurse.actor) as w:
        older = series_rows.insert(w, {
            "patient_id": roe, "kind": "induction", "planned_sessions": 6,
            "start_date": "2026-10-01", "goal": "NRS below 4", "created_at": T0})
        newer = series_rows.insert(w, {
            "patient_id": roe, "kind": "maintenance", "planned_sessions": 3,
            "start_date": "2026-11-01", "goal": "keep it", "created_at": T0})
        same_day = series_rows.insert(w, {
            "patient_id": roe, "kind": "booster", "planned_sessions": 1,
            "start_date": "2026-11-01", "goal": "one more", "created_at": T0})
        series_rows.insert(w, {
            "patient_id": abe, "kind": "induction", "planned_sessions": 6,
            "start_date": "2026-11-02", "goal": "other patient", "created_at": T0})
    entries = store.audit_rows()[before:]
    assert [(e["action"], e["table_name"]) for e in entries] == [
        ("insert", "treatment_series")] * 4
    found = series_rows.get(store, older)
    assert isinstance(found, TreatmentSeries)
    assert (found.kind, found.planned_sessions, found.start_date, found.goal) == (
        SeriesKind.INDUCTION, 6, date(2026, 10, 1), "NRS below 4")
    assert (found.protocol_id, found.next_session_on, found.closed_on,
            found.closed_reason) == (None, None, None, "")
    assert series_rows.get(store, 10_000) is None
    assert [s.id for s in series_rows.of_patient(store, roe)] == [same_day, newer, older]


def test_the_planned_list_is_soonest_first_open_series_only(clinic):
    store, nurse, roe, abe = clinic

    def series(patient_id: int, next_on: str | None, **extra: object) -> dict[str, object]:
        return {"patient_id": patient_id, "kind": "induction", "planned_sessions": 6,
                "start_date": "2026-11-01", "goal": "NRS below 4", "next_session_on": next_on,
                "created_at": T0, **extra}

    with store.write(nurse.actor) as w:
        roe_late = series_rows.insert(w, series(roe, "2026-11-30"))
        roe_soon = series_rows.insert(w, series(roe, "2026-11-26"))
        abe_soon = series_rows.insert(w, series(abe, "2026-11-26"))
        overdue = series_rows.insert(w, series(roe, "2026-11-20"))
        series_rows.insert(w, series(abe, None))  # nothing planned
        series_rows.insert(w, series(abe, "2026-11-25", closed_at=T0, closed_reason="done"))
        series_rows.insert(w, series(abe, "2026-12-20"))  # beyond the range
    planned = series_rows.planned(store, date(2026, 12, 1))
    assert [p.series.id for p in planned] == [overdue, abe_soon, roe_soon, roe_late]
    assert planned[1].patient == PatientIdentifiers("S2", "Abe", "Bo", date(1990, 3, 4))
    assert planned[0].series.next_session_on == date(2026, 11, 20)
    before = store.count("audit_log")
    with store.write(nurse.actor) as w:
        series_rows.update(w, overdue, {"next_session_on": None}, "patient called")
    [entry] = store.audit_rows()[before:]
    assert (entry["action"], entry["table_name"], entry["reason"]) == (
        "update", "treatment_series", "patient called")
    assert json.loads(entry["old_values"]) == {"next_session_on": "2026-11-20"}
    assert overdue not in [p.series.id for p in series_rows.planned(store, date(2026, 12, 1))]
