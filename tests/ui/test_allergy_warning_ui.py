"""The allergy and formulary warnings as a nurse meets them: the real dialog, a reason
typed, Enter alone recording nothing, the acknowledgement listed with the medication."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from ketalog.domain.entities import Bag, DoseKind
from ketalog.services import sessions as svc
from ketalog.services.patients import PatientInput, create_patient
from ketalog.services.record import load_record
from ketalog.ui.acknowledge_dialog import AcknowledgeDialog
from ketalog.ui.dosing_panel import DosingPanel
from ketalog.ui.entries_panel import EntriesPanel


@pytest.fixture
def live(qtbot, staffed):
    store, ctx = staffed
    nurse = ctx["nurse"]
    patient = create_patient(nurse, PatientInput("A1", "Okafor", "Daniel", date(1996, 1, 23),
                                                 allergies="morphine (itching); ketamine"))
    session = svc.start_session(nurse, svc.SessionStart(patient.id, 75.0,
                                                        Bag("ketamine", 1.0, 500)))
    return store, nurse, session


class DialogDriver:
    """Stands in for the modal exec: opens the real dialog, lets the test act on it."""

    def __init__(self, qtbot, reason: str | None) -> None:
        self.qtbot, self.reason, self.seen = qtbot, reason, []

    def __call__(self, warnings, what) -> str | None:
        dialog = AcknowledgeDialog(warnings, what)
        self.qtbot.addWidget(dialog)
        dialog.show()
        self.seen.append(dialog.text.text())
        assert not dialog.ok.isEnabled()  # no reason yet
        if self.reason is None:
            self.qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Cancel),
                                  Qt.MouseButton.LeftButton)
            return None
        self.qtbot.keyClicks(dialog.reason, self.reason)
        self.qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)
        assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
        self.qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
        assert dialog.result() == QDialog.DialogCode.Accepted
        return dialog.reason.text().strip()


def _panel(qtbot, store, nurse, session_id):
    panel = EntriesPanel(nurse, session_id)
    qtbot.addWidget(panel)
    panel.changed.connect(lambda: panel.show_record(load_record(nurse, session_id)))
    panel.show_record(load_record(nurse, session_id))
    panel.show()
    return panel


def _type_medication(qtbot, panel, drug, dose, unit="mg"):
    qtbot.keyClicks(panel.drug.lineEdit(), drug)
    qtbot.keyClicks(panel.dose, dose)
    panel.unit.setCurrentText(unit)
    panel.route.setCurrentText("IV")


def test_morphine_for_morphine_itching_warns_and_records_with_reason(qtbot, live):
    store, nurse, session = live
    panel = _panel(qtbot, store, nurse, session.id)
    driver = DialogDriver(qtbot, "itching only; Dr P aware")
    panel.ask_reason = driver
    _type_medication(qtbot, panel, "morphine", "2")
    qtbot.mouseClick(panel.add_med_button, Qt.MouseButton.LeftButton)
    (text,) = driver.seen
    assert "Allergy recorded: morphine (itching)" in text and "Source:" in text
    assert panel.med_table.rowCount() == 1
    assert "allergy warning acknowledged: itching only; Dr P aware" in \
        panel.med_table.item(0, 4).text()
    (ack,) = load_record(nurse, session.id).acknowledgements
    assert ack.response == "itching only; Dr P aware"


def test_declined_warning_records_nothing_and_keeps_the_form(qtbot, live):
    store, nurse, session = live
    panel = _panel(qtbot, store, nurse, session.id)
    panel.ask_reason = DialogDriver(qtbot, None)
    _type_medication(qtbot, panel, "morphine", "2")
    qtbot.mouseClick(panel.add_med_button, Qt.MouseButton.LeftButton)
    assert store.count("adjunct_medications") == 0
    assert panel.med_error.isVisible() and "not acknowledged" in panel.med_error.text()
    assert panel.drug.currentText() == "morphine" and panel.dose.text() == "2"


def test_unusual_unit_and_off_formulary_note(qtbot, live):
    store, nurse, session = live
    panel = _panel(qtbot, store, nurse, session.id)
    driver = DialogDriver(qtbot, "provider order")
    panel.ask_reason = driver
    _type_medication(qtbot, panel, "ondansetron", "4", unit="mcg")
    qtbot.mouseClick(panel.add_med_button, Qt.MouseButton.LeftButton)
    assert "usually given in mg" in driver.seen[0]
    _type_medication(qtbot, panel, "saline flush", "10", unit="mL")
    qtbot.mouseClick(panel.add_med_button, Qt.MouseButton.LeftButton)
    assert len(driver.seen) == 1  # no warning for a drug the formulary does not list
    assert panel.med_note.isVisible() and "not in the clinic formulary" in panel.med_note.text()
    assert store.count("adjunct_medications") == 2


def test_ketamine_allergy_asks_a_reason_at_start(qtbot, live):
    store, nurse, session = live
    panel = DosingPanel(nurse, session.id)
    qtbot.addWidget(panel)
    panel.show_record(load_record(nurse, session.id))
    panel.confirm_warnings = lambda warnings: True
    driver = DialogDriver(qtbot, "tolerated 3 prior infusions")
    panel.ask_allergy_reason = driver
    qtbot.mouseClick(panel.buttons[DoseKind.START], Qt.MouseButton.LeftButton)
    assert "Ketamine is that substance" in driver.seen[0]
    (ack,) = load_record(nurse, session.id).acknowledgements
    assert (ack.subject_table, ack.response) == ("dose_events", "tolerated 3 prior infusions")
