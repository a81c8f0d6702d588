"""Admins edit the formulary through the dialog; the change is audited and the next
medication entry is checked against it."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt

from ketalog.domain.entities import Bag
from ketalog.services import sessions as svc
from ketalog.services.patients import PatientInput, create_patient
from ketalog.ui.formulary_dialog import FormularyDialog


def test_admin_adds_a_row_with_source_and_reason(qtbot, staffed):
    store, ctx = staffed
    dialog = FormularyDialog(ctx["admin"])
    qtbot.addWidget(dialog)
    assert dialog.model.rowCount() >= 10  # seeded from resources/clinical/formulary.csv
    dialog.new_row()
    qtbot.keyClicks(dialog.drug, "dexamethasone")
    qtbot.keyClicks(dialog.route, "IV")
    qtbot.keyClicks(dialog.dose_min, "4")
    qtbot.keyClicks(dialog.dose_max, "8")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.error.isHidden() and "source" in dialog.error.text().lower()
    qtbot.keyClicks(dialog.source, "clinic PONV policy 2026")
    qtbot.keyClicks(dialog.reason, "added for PONV")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.error.isHidden()
    assert any(e.drug == "dexamethasone" for e in dialog.model.rows())
    assert store.audit_rows()[-1]["reason"] == "added for PONV"
    nurse = ctx["nurse"]
    patient = create_patient(nurse, PatientInput("F1", "Ng", "Li", date(1990, 1, 1)))
    session = svc.start_session(nurse, svc.SessionStart(patient.id, 70, Bag("ketamine", 1, 500)))
    assert svc.check_adjunct(ctx["nurse"], session.id, "dexamethasone", 12, "mg", "IV").warnings


def test_nurse_cannot_save(qtbot, staffed):
    store, ctx = staffed
    dialog = FormularyDialog(ctx["nurse"])
    qtbot.addWidget(dialog)
    dialog.edit(0)
    qtbot.keyClicks(dialog.reason, "try")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert "may not edit the formulary" in dialog.error.text()
