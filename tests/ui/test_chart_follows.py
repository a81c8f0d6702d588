"""The live chart follows the session: it shows arrival to planned end from the start
(no 1970 axis), keeps new readings in view, stops following once the user zooms (Reset
view follows again), and draws the running rate to now."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from ketalog.domain.entities import Bag, DoseKind
from ketalog.services import sessions as svc
from ketalog.services.patients import PatientInput, create_patient
from ketalog.services.protocols import list_protocols
from ketalog.ui.session_chart import EDGE_PAD_S, EMPTY_BP_RANGE, FOLLOW_AHEAD_S
from ketalog.ui.session_window import SessionWindow
from ketalog.ui.vitals_entry import ENTRY_FIELDS


@pytest.fixture
def window(qtbot, staffed, clock):
    store, ctx = staffed
    nurse = ctx["nurse"]
    patient = create_patient(nurse, PatientInput("CH1", "Dubois", "Anne", date(1979, 9, 9),
                                                 indication="neuropathic pain"))
    protocol = next(p for p in list_protocols(nurse) if p.indication == "neuropathic pain")
    session = svc.start_session(nurse, svc.SessionStart(
        patient.id, 80.0, Bag("ketamine", 1.0, 500), protocol_id=protocol.id))
    w = SessionWindow(nurse, session.id)
    qtbot.addWidget(w)
    w.confirm_close = lambda: True
    w.dosing.confirm_warnings = lambda warnings: True
    w.dosing.confirm_stop = lambda text: True
    w.resize(1366, 740)
    w.show()
    qtbot.waitExposed(w)
    return store, w, protocol, clock


def _type(qtbot, w, sbp: str, dbp: str, hr: str) -> None:
    for field, value in (("sbp_mmhg", sbp), ("dbp_mmhg", dbp), ("hr_bpm", hr)):
        qtbot.keyClicks(w.entry.inputs[field], value)
    qtbot.keyClick(w.entry.inputs[ENTRY_FIELDS[-1]], Qt.Key.Key_Return)
    w.chart.flush()


def _x(w) -> tuple[float, float]:
    return w.chart.view_range()


def test_empty_then_first_reading_then_an_hour(qtbot, window):
    store, w, protocol, clock = window
    arrival = w.record.session.arrival_at.timestamp()
    low, high = _x(w)
    planned_end = arrival + protocol.duration_min * 60
    assert low == pytest.approx(arrival - EDGE_PAD_S)
    assert high == pytest.approx(planned_end + EDGE_PAD_S)  # the whole planned session
    assert w.chart.vitals_plot.vb.viewRange()[1] == pytest.approx(list(EMPTY_BP_RANGE))
    assert w.chart.dose_plot.vb.viewRange()[1][0] == pytest.approx(0)

    qtbot.mouseClick(w.dosing.buttons[DoseKind.START], Qt.MouseButton.LeftButton)
    clock.advance(minutes=5)
    _type(qtbot, w, "128", "82", "76")
    low, high = _x(w)  # the first reading: no jump to 1970-2030
    assert low == pytest.approx(arrival - EDGE_PAD_S)
    assert high == pytest.approx(planned_end + EDGE_PAD_S)
    assert w.chart.vitals_plot.vb.viewRange()[1][0] > 0  # BP now autoranges on data

    for _ in range(12):  # an hour of readings, every 5 minutes
        clock.advance(minutes=5)
        _type(qtbot, w, "131", "84", "78")
    low, high = _x(w)
    last = clock.now().timestamp()
    assert low < last < high
    assert high == pytest.approx(planned_end + EDGE_PAD_S)
    # the running rate reaches now even with no new event
    clock.advance(minutes=3)
    w.chart.tick()
    xs, ys = w.chart.rate_steps()
    assert xs[-1] == pytest.approx(clock.now().timestamp()) and ys[-2] > 0


def test_zoom_stops_following_reset_follows_again_and_after_stop(qtbot, window):
    store, w, protocol, clock = window
    qtbot.mouseClick(w.dosing.buttons[DoseKind.START], Qt.MouseButton.LeftButton)
    clock.advance(minutes=10)
    _type(qtbot, w, "120", "80", "70")
    viewport = w.chart.view.viewport()
    centre = QPointF(viewport.width() / 2, viewport.height() / 3)
    wheel = QWheelEvent(centre, viewport.mapToGlobal(centre), QPoint(0, 0), QPoint(0, 240),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(viewport, wheel)
    assert not w.chart.following
    zoomed = _x(w)
    clock.advance(minutes=5)
    _type(qtbot, w, "122", "80", "70")
    assert _x(w) == pytest.approx(zoomed)  # the user's view is kept
    qtbot.keyClick(w, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)  # Reset view
    assert w.chart.following
    arrival = w.record.session.arrival_at.timestamp()
    assert _x(w)[0] == pytest.approx(arrival - EDGE_PAD_S)

    # past the planned end the window grows with the readings and with now
    end = w.record.session.infusion_start_at + timedelta(minutes=protocol.duration_min)
    clock.current = end + timedelta(minutes=20)
    _type(qtbot, w, "118", "78", "68")
    qtbot.mouseClick(w.dosing.buttons[DoseKind.STOP], Qt.MouseButton.LeftButton)
    assert w.record.infusion_state == "stopped"
    low, high = _x(w)
    assert high >= clock.now().timestamp() + FOLLOW_AHEAD_S
    xs, _ = w.chart.rate_steps()
    assert xs[-1] == pytest.approx(w.record.session.infusion_end_at.timestamp())
