"""Small things seen on the way: counts with the right plural, short durations in
minutes, the course view's legend and wrapped goals, one casing of patient names."""

from __future__ import annotations

import io
from datetime import date

from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader

from ketalog.domain.entities import Bag, DoseKind, Phase, patient_name
from ketalog.domain.wording import counted, hours_text
from ketalog.reports.session_pdf import session_pdf
from ketalog.services import sessions as svc
from ketalog.services.device_feed_choices import open_session_choices
from ketalog.services.exports import session_report
from ketalog.services.patients import PatientInput, create_patient
from ketalog.services.series import NewSeries, start_series
from ketalog.services.summary import session_lines
from ketalog.ui.course_window import CourseWindow


def test_counted_and_hours_text():
    assert counted(1, "infusion") == "1 infusion" and counted(2, "infusion") == "2 infusions"
    assert hours_text(0.75) == "45 min" and hours_text(0) == "0 min"
    assert hours_text(3 + 1 / 3) == "3 h 20 min" and hours_text(4) == "4 h"
    assert hours_text(72) == "3.0 d" and hours_text(None) == "—"


@given(st.floats(min_value=0, max_value=24 * 365, allow_nan=False))
def test_hours_text_never_says_0_h(h):
    text = hours_text(h)
    assert not text.startswith("0 h")
    assert text.endswith(("min", "h", "d"))


def _one_session(store, ctx, clock, minutes: int = 45):
    nurse = ctx["nurse"]
    patient = create_patient(nurse, PatientInput("SM1", "van der Berg", "Lis", date(1975, 5, 5)))
    s = svc.start_session(nurse, svc.SessionStart(patient.id, 60, Bag("ketamine", 1, 500),
                                                  chair="Chair 4"))
    svc.add_score(nurse, s.id, "nrs", Phase.PRE, value=7)
    svc.record_dose(nurse, s.id, DoseKind.START, rate_mg_per_h=30, acknowledge=True)
    clock.advance(minutes=minutes)
    svc.record_dose(nurse, s.id, DoseKind.STOP)
    svc.add_score(nurse, s.id, "nrs", Phase.POST, value=3)
    return patient, s


def test_pdf_duration_under_an_hour_in_minutes(staffed, clock):
    store, ctx = staffed
    _, s = _one_session(store, ctx, clock)
    pdf = session_pdf(session_report(ctx["nurse"], s.id))
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "infusing 45 min" in text


def test_one_name_casing(staffed, clock):
    store, ctx = staffed
    patient, s = _one_session(store, ctx, clock)
    name = patient_name("van der Berg", "Lis")
    assert name == "VAN DER BERG, Lis" == patient.display_name
    assert session_lines(ctx["nurse"], now=clock.now())[0].patient == name
    assert open_session_choices(ctx["nurse"])[0].label.startswith(name)


def test_course_view_legend_singular_and_wrapped_goal(qtbot, staffed, clock):
    store, ctx = staffed
    patient, s = _one_session(store, ctx, clock)
    goal = ("Pain at or below 3 of 10 for at least two weeks after the sixth infusion, "
            "back at work part time, sleeping through the night")
    start_series(ctx["nurse"], NewSeries(patient.id, "induction", 6, clock.now().date(), goal))
    window = CourseWindow(ctx["nurse"], patient.id)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert "1 infusion," in window.numbers.text() and "1 infusions" not in window.numbers.text()
    legend = window.legend.text()
    assert "NRS before" in legend and "NRS after" in legend and "relief" in legend
    assert window.relief_legend is not None
    view = window.series_view
    assert view.wordWrap()
    column = view.model().columnCount() - 1
    lines_needed = view.fontMetrics().horizontalAdvance(goal) / max(1, view.columnWidth(column))
    assert view.rowHeight(0) >= view.fontMetrics().height() * min(2, int(lines_needed))
