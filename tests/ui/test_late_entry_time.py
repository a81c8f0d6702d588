"""Late entries typed with the keyboard: the minute typed is stored (seconds 0), Enter in
the time box records, and the Record button is whole at 1366x768 with the time shown."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDateTimeEdit

from ketalog.domain.entities import Bag
from ketalog.services import sessions as svc
from ketalog.services.patients import PatientInput, create_patient
from ketalog.ui.session_window import SessionWindow


@pytest.fixture
def window(qtbot, staffed, clock):
    store, ctx = staffed
    nurse = ctx["nurse"]
    clock.current = datetime(2026, 11, 24, 14, 0, 33, tzinfo=UTC)  # seconds on the clock
    patient = create_patient(nurse, PatientInput("LT1", "Ruiz", "Eva", date(1990, 2, 2)))
    session = svc.start_session(nurse, svc.SessionStart(
        patient.id, 70.0, Bag("ketamine", 1.0, 500),
        arrival_at=clock.now() - timedelta(hours=1)))
    w = SessionWindow(nurse, session.id)
    qtbot.addWidget(w)
    w.confirm_close = lambda: True
    w.resize(1366, 740)
    w.show()
    qtbot.waitExposed(w)
    return store, w, clock


def _type_time(qtbot, edit: QDateTimeEdit, hh: str, mm: str) -> None:
    edit.setFocus()
    edit.setSelectedSection(QDateTimeEdit.Section.HourSection)
    qtbot.keyClicks(edit, hh)
    edit.setSelectedSection(QDateTimeEdit.Section.MinuteSection)
    qtbot.keyClicks(edit, mm)


def test_typed_minute_stored_with_seconds_zero_and_enter_records(qtbot, window):
    store, w, clock = window
    qtbot.keyClicks(w.entry.inputs["sbp_mmhg"], "124")
    qtbot.keyClicks(w.entry.inputs["dbp_mmhg"], "80")
    w.entry.when.now_box.setFocus()
    qtbot.keyClick(w.entry.when.now_box, Qt.Key.Key_Space)  # untick "now"
    edit = w.entry.when.edit
    assert edit.isVisible()
    local = (clock.now() - timedelta(minutes=62)).astimezone()
    _type_time(qtbot, edit, f"{local:%H}", f"{local:%M}")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    (row,) = store.rows("vitals", session_id=w.session_id)
    expected = local.replace(second=0, microsecond=0).astimezone(UTC)
    assert row["at"] == expected.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert row["late_entry"] == 1
    assert w.entry.when.now_box.isChecked()  # back to "now" for the next set


def test_record_button_whole_with_the_time_box_at_1366(qtbot, window):
    _, w, _ = window
    w.entry.when.now_box.setChecked(False)
    qtbot.wait(10)
    button = w.entry.button
    assert button.width() >= button.sizeHint().width()
    right = button.mapTo(w, button.rect().topRight()).x()
    assert right <= w.width()
    assert w.minimumSizeHint().width() <= 1366
