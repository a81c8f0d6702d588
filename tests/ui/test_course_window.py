"""The course view: numbers from the domain, a follow-up recorded from the due list, the
chart redrawn with it."""

from __future__ import annotations

from datetime import date

from ketalog.domain.entities import Bag, DoseKind, Phase
from ketalog.services import sessions as svc
from ketalog.services.course import load_course
from ketalog.services.patients import PatientInput, create_patient
from ketalog.ui.course_window import CourseWindow
from tests.readiness import ACK_READINESS


def relief_points(window: CourseWindow) -> int:
    return sum(len(item.getOriginalDataset()[0]) for item in window.relief_plot.listDataItems())


def mood_values(window: CourseWindow) -> list[float]:
    """PHQ-9 values on the mood chart (the connecting line holds each point once)."""
    line = window.mood_plot.listDataItems()[0]
    return [float(v) for v in line.getOriginalDataset()[1]]


def test_record_a_follow_up_from_the_due_list_and_the_chart_updates(qtbot, staffed, clock):
    store, ctx = staffed
    nurse = ctx["nurse"]
    patient = create_patient(nurse, PatientInput("C7", "Berg", "Lis", date(1975, 5, 5),
                                                 indication="depression"))
    for pre, post in ((18, 8), (16, 9)):
        s = svc.start_session(nurse, svc.SessionStart(patient.id, 60, Bag("ketamine", 1, 500),
                                                      series_total=6))
        svc.add_score(nurse, s.id, "nrs", Phase.PRE, value=min(pre // 2, 10))
        svc.record_dose(nurse, s.id, DoseKind.START, rate_mg_per_h=30, acknowledge=True)
        clock.advance(minutes=40)
        svc.record_dose(nurse, s.id, DoseKind.STOP)
        svc.add_score(nurse, s.id, "nrs", Phase.POST, value=post // 2)
        svc.complete_session(nurse, s.id, acknowledged=ACK_READINESS)
        clock.advance(days=3, hours=12)
    clock.advance(days=-2, hours=-12)  # one day after the second infusion: its 24 h call
    window = CourseWindow(nurse, patient.id)
    qtbot.addWidget(window)
    assert "MRN <b>C7</b>" in window.header.text() and "DOB 1975-05-05" in window.header.text()
    outcome = load_course(ctx["nurse"], patient.id, now=clock.now()).outcome
    assert f"{outcome.session_count} infusions" in window.numbers.text()
    statuses = [window.slots.row_at(i).status.value for i in range(window.slots.rowCount())]
    assert "due" in statuses
    before = relief_points(window)
    due_row = statuses.index("due")
    window.slot_view.selectRow(due_row)

    def fill(dialog) -> bool:  # noqa: ANN001
        assert dialog.phq9.isVisibleTo(dialog)  # mood indication: PHQ-9 offered
        dialog.save()  # nothing asked yet: refused, the reason in view, the dialog open
        assert dialog.error.isVisibleTo(dialog) and "NRS" in dialog.error.text()
        assert dialog.result() != dialog.DialogCode.Accepted
        dialog.nrs.setValue(3)
        dialog.phq9.setValue(6)
        dialog.save()
        return dialog.result() == dialog.DialogCode.Accepted

    assert window.mood_plot.isVisible() or not window.isVisible()
    assert window.summary.shows_mood and window.summary.mood.points == ()
    window.open_dialog = fill  # type: ignore[method-assign]
    assert window.record_selected() is not None
    assert relief_points(window) == before + 1  # the new score is on the relief curve
    assert mood_values(window) == [6.0]  # and the PHQ-9 on the mood chart
    follow = store.rows("follow_ups")[-1]
    assert (follow["nrs"], follow["phq9"], follow["source"]) == (3, 6, "phone")
    statuses = [window.slots.row_at(i).status.value for i in range(window.slots.rowCount())]
    assert "due" not in statuses  # that call is done


def test_series_planned_and_closed_from_the_course_view(qtbot, staffed, clock):
    from ketalog.domain.series import SeriesState

    store, ctx = staffed
    nurse = ctx["nurse"]
    patient = create_patient(nurse, PatientInput("C8", "Holm", "Ari", date(1968, 2, 2),
                                                 indication="CRPS"))
    window = CourseWindow(nurse, patient.id)
    qtbot.addWidget(window)
    assert not window.summary.shows_mood  # pain indication without PHQ-9: no mood chart
    assert window.series_model.rowCount() == 0

    def new(dialog) -> bool:  # noqa: ANN001
        dialog.planned.setValue(4)
        dialog.plan_next.setChecked(True)
        dialog.save()
        return dialog.result() == dialog.DialogCode.Accepted

    window.open_dialog = new  # type: ignore[method-assign]
    assert window.new_series() is not None
    row = window.series_model.row_at(0)
    assert window.series_model.data(window.series_model.index(0, 0)) == "Induction 0/4"
    assert window.series_model.data(window.series_model.index(0, 1)) == "2026-11-24"

    def plan(dialog) -> bool:  # noqa: ANN001
        dialog.day.setDate(dialog.day.date().addDays(-3))  # in the past: refused, kept
        dialog.save()
        assert "past" in dialog.error.text()
        dialog.day.setDate(dialog.day.date().addDays(10))
        dialog.save()
        return dialog.result() == dialog.DialogCode.Accepted

    window.open_dialog = plan  # type: ignore[method-assign]
    assert window.plan_next()
    assert window.series_model.data(window.series_model.index(0, 1)) == "2026-12-01"

    def close(dialog) -> bool:  # noqa: ANN001
        dialog.reason.setText("stopped: dissociation each time")
        dialog.save()
        return dialog.result() == dialog.DialogCode.Accepted

    window.open_dialog = close  # type: ignore[method-assign]
    assert window.close_series()
    row = window.series_model.row_at(0)
    assert row.state is SeriesState.CLOSED
    assert window.series_model.data(window.series_model.index(0, 0)) == "Induction 0/4 closed"
    assert "closed: stopped: dissociation" in window.series_model.data(
        window.series_model.index(0, 3))
    assert not window.plan_next()  # nothing open left to plan
    actions = [a["action"] for a in store.audit_rows(table_name="treatment_series")]
    assert actions == ["insert", "update", "update"]


def test_course_axes_never_rescale_their_units(qtbot, staffed):
    """Days stay days: a relief curve under one day once read '(x0.001)', ticks to 900."""
    _store, ctx = staffed
    patient = create_patient(ctx["nurse"], PatientInput("C9", "Okoye", "Ada", date(1980, 1, 1)))
    window = CourseWindow(ctx["nurse"], patient.id)
    qtbot.addWidget(window)
    for plot in (window.sessions_plot, window.relief_plot):
        for side in ("left", "bottom"):
            assert not plot.getAxis(side).autoSIPrefix
