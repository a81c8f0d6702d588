"""One patient per chair, at the start dialog: a free chair is proposed; choosing an
occupied one names who is there and needs a confirmation (the safe answer is default)."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from ketalog.domain.entities import Bag
from ketalog.services import chairs
from ketalog.services.patients import PatientInput, create_patient
from ketalog.services.sessions import SessionStart, start_session
from ketalog.ui.start_session_dialog import StartSessionDialog


@pytest.fixture
def chair1_taken(staffed):
    store, ctx = staffed
    nurse = ctx["nurse"]
    first = create_patient(nurse, PatientInput("P1", "Moreau", "Luc", date(1970, 1, 1)))
    start_session(nurse, SessionStart(first.id, 80, Bag("ketamine", 1, 500), chair="Chair 1"))
    second = create_patient(nurse, PatientInput("P2", "Haddad", "Mira", date(1988, 8, 8)))
    return store, nurse, second


def _dialog(qtbot, nurse, patient_id):
    dialog = StartSessionDialog(nurse, patient_id)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.weight, "70")
    return dialog


def test_free_chair_is_proposed(qtbot, chair1_taken):
    store, nurse, patient = chair1_taken
    dialog = _dialog(qtbot, nurse, patient.id)
    assert dialog.chair.currentText() == "Chair 2"
    assert dialog.chair_status.text() == "free"
    dialog.chair.setCurrentText("chair1")  # the feed's spelling rules apply
    assert "MOREAU, Luc (MRN P1), arrived" in dialog.chair_status.text()


def test_occupied_chair_asks_and_enter_declines(qtbot, chair1_taken):
    store, nurse, patient = chair1_taken
    dialog = _dialog(qtbot, nurse, patient.id)
    dialog.chair.setCurrentText("Chair 1")
    seen: list[str] = []

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer)
            return
        seen.append(box.text())
        qtbot.keyClick(box, Qt.Key.Key_Return)

    QTimer.singleShot(20, answer)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    assert "in use by MOREAU, Luc (MRN P1)" in seen[0] and "HADDAD, Mira" in seen[0]
    assert dialog.session_id is None and store.count("sessions") == 1
    dialog.confirm_shared_chair = lambda text: True
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    assert dialog.session_id is not None
    assert len(chairs.occupants_of(nurse, "Chair 1")) == 2
