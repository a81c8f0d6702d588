"""Alarms that are seen: SpO2 86 typed (or from a monitor) raises the banner on the
session screen and marks the row on the Today board until a nurse acknowledges it with
the action taken; the acknowledgement is on the PDF; the sound is switchable."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt

from ketalog.domain.entities import Bag, DoseKind
from ketalog.reports.session_pdf import session_pdf
from ketalog.services import sessions as svc
from ketalog.services.exports import session_report
from ketalog.services.patients import PatientInput, create_patient
from ketalog.ui.main_window import MainWindow
from ketalog.ui.session_window import SessionWindow
from ketalog.ui.vitals_entry import ENTRY_FIELDS


@pytest.fixture
def window(qtbot, staffed, clock):
    store, ctx = staffed
    nurse = ctx["nurse"]
    patient = create_patient(nurse, PatientInput("AL1", "Kowalski", "Jan", date(1966, 6, 6)))
    session = svc.start_session(nurse, svc.SessionStart(patient.id, 80.0,
                                                        Bag("ketamine", 1.0, 500),
                                                        chair="Chair 3"))
    svc.record_dose(nurse, session.id, DoseKind.START, rate_mg_per_h=40, acknowledge=True)
    w = SessionWindow(nurse, session.id)
    qtbot.addWidget(w)
    w.confirm_close = lambda: True
    w.show()
    beeps: list[int] = []
    w.alarm_banner.beep = lambda: beeps.append(1)
    return store, ctx, w, beeps


def _type_spo2(qtbot, w, value: str) -> None:
    w.entry.inputs["spo2_pct"].setFocus()
    qtbot.keyClicks(w.entry.inputs["spo2_pct"], value)
    qtbot.keyClick(w.entry.inputs[ENTRY_FIELDS[-1]], Qt.Key.Key_Return)


def test_typed_alarm_banner_board_mark_and_acknowledgement(qtbot, window, tmp_path, clock):
    store, ctx, w, beeps = window
    assert w.alarm_banner.isHidden()
    _type_spo2(qtbot, w, "86")
    assert not w.alarm_banner.isHidden()
    assert "SpO2 86 % < 92" in w.alarm_banner.details.text()
    assert beeps == [1]
    main = MainWindow(ctx["nurse"], tmp_path / "db.sqlite")
    qtbot.addWidget(main)
    main.refresh_board()
    row = next(r for r in range(main.board.rowCount())
               if main.board.row_at(r).session_id == w.session_id)
    alarm_col = main.board.columnCount() - 1
    cell = main.board.index(row, alarm_col)
    assert "ALARM" in main.board.data(cell)
    assert main.board.data(cell, Qt.ItemDataRole.BackgroundRole) is not None
    # Enter with no action refuses; with an action it acknowledges
    qtbot.keyClick(w.alarm_banner.action, Qt.Key.Key_Return)
    assert not w.alarm_banner.error.isHidden() and not w.alarm_banner.isHidden()
    qtbot.keyClicks(w.alarm_banner.action, "probe repositioned, SpO2 97 %")
    qtbot.keyClick(w.alarm_banner.action, Qt.Key.Key_Return)
    assert w.alarm_banner.isHidden()
    main.refresh_board()
    assert main.board.data(main.board.index(row, alarm_col)) == ""
    assert main.board.data(main.board.index(row, 0), Qt.ItemDataRole.BackgroundRole) is None
    pdf = session_pdf(session_report(ctx["nurse"], w.session_id))
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Warnings and alarms acknowledged" in text
    assert "probe repositioned, SpO2 97 %" in text


def test_monitor_reading_raises_the_banner_and_sound_can_be_off(qtbot, window, clock):
    store, ctx, w, beeps = window
    w.sound_action.setChecked(False)  # this workstation: no sound
    clock.advance(minutes=1)
    svc.record_vitals(ctx["nurse"], w.session_id, {"hr_bpm": 131}, source="device:MON1")
    w.poll_device_vitals()
    assert not w.alarm_banner.isHidden()
    assert "HR 131 /min > 120" in w.alarm_banner.details.text()
    assert "device:MON1" in w.alarm_banner.details.text()
    assert beeps == []
    w.sound_action.setChecked(True)
    clock.advance(minutes=1)
    svc.record_vitals(ctx["nurse"], w.session_id, {"hr_bpm": 135}, source="device:MON1")
    w.poll_device_vitals()
    assert beeps == [1]
    reopened = SessionWindow(ctx["nurse"], w.session_id)
    qtbot.addWidget(reopened)
    reopened.confirm_close = lambda: True
    assert not reopened.alarm_banner.isHidden()  # still pending in a new window
    assert reopened.sound_action.isChecked()


def test_banner_leaves_with_the_patient(qtbot, window, clock):
    """A completed record is no live patient: its alarms stay flagged in the record, the
    banner goes."""
    store, ctx, w, beeps = window
    _type_spo2(qtbot, w, "88")
    assert not w.alarm_banner.isHidden()
    clock.advance(minutes=5)
    svc.record_dose(ctx["nurse"], w.session_id, DoseKind.STOP)
    assert w.complete(escort="son")
    assert w.alarm_banner.isHidden()
