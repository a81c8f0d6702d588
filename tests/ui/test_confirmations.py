"""Stop and Sign ask first, with the real dialogs: Enter alone never stops an infusion;
the Stop question names the patient, the total given and the time; Sign names what is
signed and needs the password."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox

from ketalog.domain.entities import Bag, DoseKind
from ketalog.services import sessions as svc
from ketalog.services.patients import PatientInput, create_patient
from ketalog.services.record import load_record
from ketalog.ui.confirmations import SignDialog
from ketalog.ui.dosing_panel import DosingPanel


@pytest.fixture
def running(qtbot, staffed, clock):
    store, ctx = staffed
    nurse = ctx["nurse"]
    patient = create_patient(nurse, PatientInput("C1", "Silva", "Rui", date(1975, 3, 3)))
    session = svc.start_session(nurse, svc.SessionStart(patient.id, 80.0,
                                                        Bag("ketamine", 1.0, 500)))
    svc.record_dose(nurse, session.id, DoseKind.START, rate_mg_per_h=40, acknowledge=True)
    clock.advance(minutes=90)
    panel = DosingPanel(nurse, session.id)
    qtbot.addWidget(panel)
    panel.show_record(load_record(nurse, session.id))
    panel.show()
    return store, ctx, session, panel


def _answer_stop(qtbot, action):
    """Act on the Stop question once it is on screen; returns what it said."""
    seen: list[str] = []

    def act() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, act)
            return
        seen.append(box.text())
        action(box)

    QTimer.singleShot(20, act)
    return seen


def test_enter_alone_keeps_the_infusion_running(qtbot, running):
    store, ctx, session, panel = running
    seen = _answer_stop(qtbot, lambda box: qtbot.keyClick(box, Qt.Key.Key_Return))
    assert not panel.submit(DoseKind.STOP)
    assert "SILVA, Rui" in seen[0] and "MRN C1" in seen[0]
    assert "Total given: 60.0 mg = 0.75 mg/kg over 1 h 30 min" in seen[0]
    assert load_record(ctx["nurse"], session.id).infusion_state == "running"
    assert "keeps running" in panel.error.text()


def test_stop_button_in_the_question_stops(qtbot, running):
    store, ctx, session, panel = running

    def press_stop(box: QMessageBox) -> None:
        (stop,) = [b for b in box.buttons() if "top infusion" in b.text()]
        qtbot.mouseClick(stop, Qt.MouseButton.LeftButton)

    _answer_stop(qtbot, press_stop)
    assert panel.submit(DoseKind.STOP)
    assert load_record(ctx["nurse"], session.id).infusion_state == "stopped"


def test_sign_dialog_names_the_patient_and_needs_the_password(qtbot, running):
    store, ctx, session, _ = running
    dialog = SignDialog(load_record(ctx["nurse"], session.id))
    qtbot.addWidget(dialog)
    label = dialog.findChild(QLabel, "signSummary")
    assert "SILVA, Rui" in label.text() and "MRN C1" in label.text()
    assert not dialog.ok.isEnabled()
    qtbot.keyClicks(dialog.password, "x")
    assert dialog.ok.isEnabled()
