"""Windows fit the screen: maximised on a 1366x768 (or smaller) screen the first time,
then where this workstation left them; the Scores tab is usable at 1366x768 (inputs tall
enough, MOAA/S levels whole), score boxes empty after recording, score times typed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QDateTimeEdit, QScrollArea

from ketalog.domain.entities import Bag
from ketalog.services import sessions as svc
from ketalog.services.patients import PatientInput, create_patient
from ketalog.services.record import load_record
from ketalog.ui.main_window import MainWindow
from ketalog.ui.session_window import SessionWindow
from ketalog.ui.window_geometry import remember, show_fitted, small_screen


@pytest.fixture
def session(staffed, clock):
    store, ctx = staffed
    nurse = ctx["nurse"]
    patient = create_patient(nurse, PatientInput("W1", "Novak", "Ivo", date(1960, 7, 7)))
    s = svc.start_session(nurse, svc.SessionStart(patient.id, 90, Bag("ketamine", 1, 500),
                                                  arrival_at=clock.now() - timedelta(hours=1)))
    return store, ctx, s


def test_small_screen_rule():
    assert small_screen(QRect(0, 0, 1366, 768)) and small_screen(QRect(0, 0, 1280, 1024))
    assert not small_screen(QRect(0, 0, 1920, 1080))


def test_main_window_maximised_first_then_remembered(qtbot, session, tmp_path):
    store, ctx, _ = session
    first = MainWindow(ctx["nurse"], tmp_path / "db.sqlite")
    qtbot.addWidget(first)
    show_fitted(first, "main")  # the offscreen screen is 800x600: a small screen
    assert first.isMaximized()
    first.showNormal()
    first.setGeometry(40, 50, 700, 500)
    qtbot.wait(10)
    first.hide()  # log out: the place is kept
    again = MainWindow(ctx["nurse"], tmp_path / "db.sqlite")
    qtbot.addWidget(again)
    show_fitted(again, "main")
    assert not again.isMaximized()
    assert (again.width(), again.height()) == (700, 500)


def test_session_window_remembers_its_size(qtbot, session):
    store, ctx, s = session
    w = SessionWindow(ctx["nurse"], s.id)
    qtbot.addWidget(w)
    w.confirm_close = lambda: True
    show_fitted(w, "session")
    w.showNormal()
    w.resize(1210, 700)
    qtbot.wait(10)
    remember(w, "session")
    w2 = SessionWindow(ctx["nurse"], s.id)
    qtbot.addWidget(w2)
    w2.confirm_close = lambda: True
    show_fitted(w2, "session")
    # (the offscreen screen is 800 px wide: Qt clamps the width to the window minimum)
    assert w2.height() == 700 and not w2.isMaximized()


def test_scores_tab_usable_at_1366x768_and_boxes_clear(qtbot, session, clock):
    store, ctx, s = session
    clock.current = datetime(2026, 11, 24, 14, 0, 41, tzinfo=UTC)
    w = SessionWindow(ctx["nurse"], s.id)
    qtbot.addWidget(w)
    w.confirm_close = lambda: True
    w.resize(1366, 740)  # a maximised window on 1366x768 under a task bar
    w.show()
    qtbot.waitExposed(w)
    panel = w.entries
    panel.setCurrentIndex(2)
    qtbot.wait(10)
    inputs = panel.findChild(QScrollArea, "scoreInputs")
    assert inputs.viewport().height() >= 180  # it was about 95 px: one scale visible
    moaas = panel.moaas_value
    longest = max(moaas.itemText(i) for i in range(moaas.count()))
    assert moaas.width() >= moaas.fontMetrics().horizontalAdvance(longest) * 0.9
    assert panel.nrs_value.text() == "—"  # starts empty
    assert not panel.add_nrs()  # an empty score is refused, not stored as 0
    assert store.count("scores") == 0
    # a score's time typed like vitals
    qtbot.keyClick(panel.score_time.now_box, Qt.Key.Key_Space)
    edit = panel.score_time.edit
    when = (clock.now() - timedelta(minutes=30)).astimezone()
    edit.setFocus()
    edit.setSelectedSection(QDateTimeEdit.Section.HourSection)
    qtbot.keyClicks(edit, f"{when:%H}")
    edit.setSelectedSection(QDateTimeEdit.Section.MinuteSection)
    qtbot.keyClicks(edit, f"{when:%M}")
    panel.nrs_value.setFocus()
    panel.nrs_value.selectAll()
    qtbot.keyClicks(panel.nrs_value, "7")
    assert panel.nrs_value.value() == 7, panel.nrs_value.text()
    qtbot.mouseClick(panel.add_nrs_button, Qt.MouseButton.LeftButton)
    (score,) = load_record(ctx["nurse"], s.id).scores
    assert score.value == 7
    assert score.at == when.replace(second=0, microsecond=0)
    assert panel.nrs_value.text() == "—"  # cleared: the post score is typed afresh
    assert panel.score_time.now_box.isChecked()
    assert w.findChild(type(panel.score_table), "scoreTable").rowCount() == 1


def test_long_allergy_list_never_widens_the_session_window(qtbot, staffed):
    store, ctx = staffed
    nurse = ctx["nurse"]
    patient = create_patient(nurse, PatientInput(
        "W2", "Achterberg-Vandersteen", "Maria Josefina", date(1958, 3, 3),
        allergies="morphine (itching); penicillin (anaphylaxis); latex (rash); sulfa drugs "
                  "(hives); iodinated contrast (bronchospasm); codeine (vomiting)"))
    s = svc.start_session(nurse, svc.SessionStart(patient.id, 70, Bag("ketamine", 1, 500)))
    w = SessionWindow(nurse, s.id)
    qtbot.addWidget(w)
    w.confirm_close = lambda: True
    assert w.minimumSizeHint().width() <= 1366
    assert "bronchospasm" in w.header.labels["allergies"].text()


def test_keyboard_reaches_the_entry_tabs(qtbot, session):
    """Alt+4 goes to the NRS box; Enter there records it; Alt+3 to the medication drug."""
    store, ctx, s = session
    w = SessionWindow(ctx["nurse"], s.id)
    qtbot.addWidget(w)
    w.confirm_close = lambda: True
    w.show()
    qtbot.waitExposed(w)
    action = next(a for a in w.actions() if a.objectName() == "actionFocusScores")
    action.trigger()
    assert w.entries.currentIndex() == 2
    qtbot.keyClicks(w.entries.nrs_value, "6")  # replaces the empty "—"
    qtbot.keyClick(w.entries.nrs_value, Qt.Key.Key_Return)
    assert [sc.value for sc in load_record(ctx["nurse"], s.id).scores] == [6]
    next(a for a in w.actions() if a.objectName() == "actionFocusMedications").trigger()
    assert w.entries.currentIndex() == 0
