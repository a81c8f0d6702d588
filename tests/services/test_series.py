"""Treatment series through the services: opening one, k of N at session start, the
plan fulfilled by a session, closing, roles, audit."""

from __future__ import annotations

from datetime import date

import pytest

from ketalog.domain.entities import Bag
from ketalog.domain.errors import PlausibilityError
from ketalog.domain.series import SeriesState
from ketalog.services.errors import InvalidState, PermissionDenied
from ketalog.services.patients import PatientInput, create_patient
from ketalog.services.protocols import list_protocols
from ketalog.services.series import (
    NewSeries,
    close_series,
    list_series,
    open_series,
    plan_next_session,
    start_series,
)
from ketalog.services.sessions import SessionStart, start_session
from ketalog.store.content import session_content

pytestmark = pytest.mark.both_engines

TODAY = date(2026, 11, 24)  # the fixed clock's day in UTC (tests run with TZ unset)


@pytest.fixture
def patient(staffed):
    store, ctx = staffed
    return create_patient(ctx["nurse"], PatientInput("S1", "Sato", "Yui", date(1980, 5, 6),
                                                     indication="neuropathic pain"))


def _series(ctx, patient, planned=3, **kw):
    return start_series(ctx, NewSeries(patient.id, kw.pop("kind", "induction"), planned,
                                       TODAY, kw.pop("goal", "NRS <= 4 for a week"), **kw))


def _start(ctx, patient, series_id=None, k=1, n=1):
    return start_session(ctx, SessionStart(patient.id, 70.0, Bag("ketamine", 1.0, 500),
                                           series_id=series_id, series_number=k,
                                           series_total=n))


def test_sessions_in_a_series_take_k_of_n_from_it_until_complete(staffed, patient):
    store, ctx = staffed
    nurse = ctx["nurse"]
    s = _series(nurse, patient, planned=2)
    first = _start(nurse, patient, s.id, k=5, n=9)  # what the form said is overridden
    second = _start(nurse, patient, s.id)
    assert [(x.series_number, x.series_total, x.series_id) for x in (first, second)] == [
        (1, 2, s.id), (2, 2, s.id)]
    [p] = list_series(store, patient.id)
    assert p.state is SeriesState.COMPLETE and open_series(ctx["nurse"], patient.id) == []
    with pytest.raises(InvalidState, match="complete"):
        _start(nurse, patient, s.id)
    assert store.count("sessions", patient_id=patient.id) == 2


def test_a_session_fulfils_the_planned_day(staffed, patient):
    store, ctx = staffed
    nurse = ctx["nurse"]
    s = _series(nurse, patient)
    planned = plan_next_session(ctx["provider"], s.id, date(2026, 11, 27), "after review")
    assert planned.next_session_on == date(2026, 11, 27)
    audit = store.audit_rows(table_name="treatment_series")
    assert [(a["action"], a["username"]) for a in audit][-1] == ("update", "provider")
    _start(nurse, patient, s.id)
    [p] = list_series(store, patient.id)
    assert p.series.next_session_on is None and p.sessions_started == 1


def test_plans_in_the_past_are_refused(staffed, patient):
    store, ctx = staffed
    s = _series(ctx["nurse"], patient)
    with pytest.raises(PlausibilityError, match="past"):
        plan_next_session(ctx["nurse"], s.id, date(2026, 11, 23))
    assert store.get("treatment_series", s.id)["next_session_on"] is None


def test_closing_needs_a_reason_and_stops_further_sessions(staffed, patient):
    store, ctx = staffed
    nurse = ctx["nurse"]
    s = _series(nurse, patient, kind="maintenance", planned=4)
    with pytest.raises(InvalidState, match="reason"):
        close_series(nurse, s.id, "  ")
    closed = close_series(nurse, s.id, "goal met: NRS 2 for 3 weeks")
    assert closed.closed_on is not None and closed.closed_reason.startswith("goal met")
    with pytest.raises(InvalidState, match="closed"):
        _start(nurse, patient, s.id)
    with pytest.raises(InvalidState, match="closed"):
        plan_next_session(nurse, s.id, date(2026, 12, 1))


def test_series_of_another_patient_is_refused(staffed, patient):
    store, ctx = staffed
    nurse = ctx["nurse"]
    other = create_patient(nurse, PatientInput("S2", "Roe", "Ann", date(1990, 1, 1)))
    s = _series(nurse, other)
    with pytest.raises(InvalidState, match="another patient"):
        _start(nurse, patient, s.id)


def test_admins_do_not_plan_treatment(staffed, patient):
    store, ctx = staffed
    with pytest.raises(PermissionDenied):
        _series(ctx["admin"], patient)
    assert store.count("treatment_series") == 0


def test_retired_protocol_cannot_head_a_new_series(staffed, patient):
    store, ctx = staffed
    protocol = list_protocols(ctx["nurse"])[0]
    with store.write(ctx["admin"].actor) as w:
        w.update("protocols", protocol.id, {"retired": 1}, "test")
    with pytest.raises(InvalidState, match="retired"):
        _series(ctx["nurse"], patient, protocol_id=protocol.id)


def test_signed_content_leaves_out_an_unset_series(staffed, patient):
    """Sessions signed before series existed read series_id NULL after the migration;
    leaving it out keeps the hash they were signed with."""
    store, ctx = staffed
    nurse = ctx["nurse"]
    loose = _start(nurse, patient)
    s = _series(nurse, patient)
    member = _start(nurse, patient, s.id)
    assert "series_id" not in session_content(store, loose.id)["session"]
    assert session_content(store, member.id)["session"]["series_id"] == s.id
