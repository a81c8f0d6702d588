"""Follow-up PHQ-9 with its nine items: item 9 above 0 raises the safety flag in the course
view until a clinician acknowledges it (audited); response and remission shown apart on
screen and in the course PDF, the baseline the series' first PHQ-9 whatever the range."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from PySide6.QtCore import Qt

from ketalog.domain.entities import Bag, DoseKind
from ketalog.domain.errors import PlausibilityError
from ketalog.services import sessions as svc
from ketalog.services.course import load_course
from ketalog.services.errors import InvalidState
from ketalog.services.exports import export_course_pdf
from ketalog.services.patients import PatientInput, create_patient
from ketalog.services.series import NewSeries, start_series
from ketalog.ui.course_window import CourseWindow
from tests.readiness import ACK_READINESS
from tests.reports.test_session_pdf import pages_text


def items(total_of_first_eight: int, item_9: int) -> dict[str, int]:
    values = [0] * 8
    for i in range(total_of_first_eight):
        values[i % 8] += 1
    return {**{f"item_{n}": v for n, v in enumerate(values, start=1)}, "item_9": item_9}


@pytest.fixture
def mood_course(staffed, clock):
    """Two infusions of one series: PHQ-9 20 before the first, follow-ups after each."""
    store, ctx = staffed
    nurse = ctx["nurse"]
    patient = create_patient(nurse, PatientInput("M9", "Moreau", "Inès", date(1988, 8, 8),
                                                 indication="depression"))
    series = start_series(nurse, NewSeries(patient.id, "induction", 6,
                                           clock.now().astimezone().date(), "PHQ-9 response"))
    sids = []
    for n in range(2):
        s = svc.start_session(nurse, svc.SessionStart(patient.id, 70, Bag("ketamine", 1, 500),
                                                      series_id=series.id))
        if n == 0:
            svc.add_score(nurse, s.id, "phq9", "pre", items=items(20, 0))
        svc.record_dose(nurse, s.id, DoseKind.START, rate_mg_per_h=35, acknowledge=True)
        clock.advance(minutes=40)
        svc.record_dose(nurse, s.id, DoseKind.STOP)
        svc.complete_session(nurse, s.id, acknowledged=ACK_READINESS)
        clock.advance(days=3)
        sids.append(s.id)
    return store, ctx, patient, sids


def test_follow_up_items_total_flag_and_acknowledgement(mood_course, clock):
    store, ctx, patient, sids = mood_course
    nurse = ctx["nurse"]
    with pytest.raises(PlausibilityError, match="does not match"):
        svc.add_follow_up(nurse, sids[1], nrs=None, phq9=12, phq9_items=items(8, 1))
    fid = svc.add_follow_up(nurse, sids[1], nrs=None, phq9_items=items(8, 1))
    row = store.get("follow_ups", fid)
    assert (row["phq9"], row["phq9_total_only"]) == (9, 0)
    assert json.loads(str(row["phq9_items"]))["item_9"] == 1
    total_only = svc.add_follow_up(nurse, sids[1], nrs=4, phq9=7)
    assert store.get("follow_ups", total_only)["phq9_total_only"] == 1
    with pytest.raises(InvalidState, match="no PHQ-9 item-9"):
        svc.acknowledge_safety_flag(nurse, total_only, "nothing to see")
    course = load_course(ctx["nurse"], patient.id, now=clock.now())
    assert [f.id for f in course.safety_flags] == [fid]
    with pytest.raises(PlausibilityError):
        svc.acknowledge_safety_flag(nurse, fid, " ")
    svc.acknowledge_safety_flag(ctx["provider"], fid, "safety plan reviewed by phone")
    assert load_course(ctx["nurse"], patient.id, now=clock.now()).safety_flags == ()
    from ketalog.interop.csv_export import build_tables
    from ketalog.services.record import load_record

    header, rows = build_tables([load_record(ctx["nurse"], sids[1])])["follow_ups"]
    by_column = [dict(zip(header, r, strict=True)) for r in rows]
    assert [(r["phq9"], r["phq9_total_only"], r["safety_flag"],
             r["safety_acknowledgement"]) for r in by_column] == [
        ("9", "false", "true", "safety plan reviewed by phone"), ("7", "true", "false", "")]
    audit = [r for r in store.audit_rows() if r["table_name"] == "follow_ups"
             and r["action"] == "update"]
    assert audit[-1]["reason"] == "safety plan reviewed by phone"
    with pytest.raises(InvalidState, match="already|acknowledged"):
        svc.acknowledge_safety_flag(nurse, fid, "again")


def test_course_view_flags_until_acknowledged_and_shows_response_and_remission_apart(
        qtbot, mood_course, clock, tmp_path):
    store, ctx, patient, sids = mood_course
    nurse = ctx["nurse"]
    svc.add_follow_up(nurse, sids[1], nrs=None, phq9_items=items(7, 2))  # 9, item 9 = 2
    window = CourseWindow(nurse, patient.id)
    qtbot.addWidget(window)
    window.show()
    assert window.safety.isVisible() and "item 9" in window.safety.text()
    assert "= 2" in window.safety.text() and window.safety_button.isEnabled()
    text = window.numbers.text()
    assert "Response (≥ 50 % drop from the first PHQ-9 of the series): yes" in text
    assert "first 20" in text and "latest 9" in text
    assert "Remission (latest PHQ-9 below 5): no" in text
    window.ask_safety_note = lambda _t: None  # cancelled
    assert not window.acknowledge_safety() and window.safety.isVisible()
    window.ask_safety_note = lambda _t: "called back, safety plan in place"
    qtbot.mouseClick(window.safety_button, Qt.MouseButton.LeftButton)
    assert not window.safety.isVisible()
    # the course PDF, for a range that leaves out the first infusion's baseline
    since = clock.now().astimezone().date() - timedelta(days=4)
    pdf = export_course_pdf(nurse, patient.id, tmp_path / "c.pdf", since=since)
    whole = " ".join(" ".join(pages_text(pdf)).split())
    assert "Response (≥ 50 % drop from the first PHQ-9 of the series): yes" in whole
    assert "first 20" in whole  # the series' first PHQ-9, outside the range shown
    assert "Remission (latest PHQ-9 below 5): no" in whole
    assert "acknowledged" in whole and "called back, safety plan in place" in whole


def test_a_rise_is_never_a_response(mood_course, clock):
    store, ctx, patient, sids = mood_course
    nurse = ctx["nurse"]
    svc.add_follow_up(nurse, sids[1], nrs=None, phq9=21)
    course = load_course(ctx["nurse"], patient.id, now=clock.now())
    assert course.mood.response is False and course.mood.remission is False


def test_follow_up_dialog_takes_nine_items_or_a_total(qtbot, mood_course):
    from ketalog.ui.follow_up_dialog import FollowUpDialog

    store, ctx, _, sids = mood_course
    dialog = FollowUpDialog(ctx["nurse"], sids[1], "Follow-up", mood=True)
    qtbot.addWidget(dialog)
    for n in range(1, 9):
        dialog.phq9_items[f"item_{n}"].setValue(1)
    dialog.save()
    assert "1 missing" in dialog.error.text() and store.count("follow_ups") == 0
    dialog.phq9_items["item_9"].setValue(1)
    dialog.save()
    row = store.rows("follow_ups")[-1]
    assert (row["phq9"], row["phq9_total_only"]) == (9, 0)
    other = FollowUpDialog(ctx["nurse"], sids[1], "Follow-up", mood=True)
    qtbot.addWidget(other)
    other.phq9.setValue(11)
    other.save()
    assert store.rows("follow_ups")[-1]["phq9_total_only"] == 1


def test_follow_up_struck_from_the_course_view_even_after_signing(qtbot, mood_course, clock):
    store, ctx, patient, sids = mood_course
    nurse = ctx["nurse"]
    svc.sign_session(ctx["provider"], sids[1], "provider-pass-1")
    fid = svc.add_follow_up(nurse, sids[1], nrs=None, phq9_items=items(8, 1))
    window = CourseWindow(nurse, patient.id)
    qtbot.addWidget(window)
    assert window.recorded.rowCount() == 1 and window.safety.isVisibleTo(window)
    assert "⚑ item 9 NOT ACKNOWLEDGED" in window.recorded.data(window.recorded.index(0, 2))
    assert not window.strike_follow_up_button.isEnabled()
    window.recorded_view.selectRow(0)
    assert window.strike_follow_up_button.isEnabled()
    window.ask_strike_reason = lambda _label: "called the wrong patient"
    assert window.strike_selected_follow_up()
    assert store.get("follow_ups", fid)["struck_reason"] == "called the wrong patient"
    assert "ENTERED IN ERROR: called the wrong patient" in window.recorded.data(
        window.recorded.index(0, 4))
    assert not window.safety.isVisibleTo(window)  # a struck entry raises no flag
    assert window.summary.mood.latest.phq9 == 20  # nor counts in the trend
