"""The patient form: date of birth starts empty and is required; allergy entries are
added with the keyboard, removed with a reason, and the cross-check reads them."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, Qt

from ketalog.services import allergies as allergy_service
from ketalog.services.patients import PatientInput, create_patient
from ketalog.ui.patient_dialog import PatientDialog


def test_new_patient_dob_empty_then_required(qtbot, staffed):
    store, ctx = staffed
    form = PatientDialog(ctx["nurse"])
    qtbot.addWidget(form)
    assert form.birth.text().strip() == ""
    qtbot.keyClicks(form.mrn, "K9")
    qtbot.keyClicks(form.family, "Berg")
    qtbot.keyClicks(form.given, "Ana")
    form.save()
    assert form.result_patient is None
    assert not form.errors["birth_date"].isHidden()
    assert "date of birth" in form.errors["birth_date"].text()
    form.birth.setDate(QDate(1970, 2, 3))
    form.save()
    assert form.result_patient is not None and form.result_patient.birth_date == date(1970, 2, 3)


def test_allergy_entries_added_with_enter_and_removed_with_reason(qtbot, staffed):
    store, ctx = staffed
    nurse = ctx["nurse"]
    patient = create_patient(nurse, PatientInput("K10", "Berg", "Ana", date(1970, 2, 3),
                                                 allergies="morphine (itching)"))
    form = PatientDialog(nurse, patient)
    qtbot.addWidget(form)
    form.show()
    editor = form.allergy_editor
    qtbot.keyClicks(editor.substance, "penicillins")
    qtbot.keyClicks(editor.reaction, "hives")
    editor.severity.setCurrentText("severe")
    qtbot.keyClick(editor.reaction, Qt.Key.Key_Return)
    assert form.isVisible()  # Enter added the entry, it did not save the form
    assert editor.list.count() == 1 and "penicillins (hives), severe" in editor.list.item(0).text()
    form.save()
    entries = allergy_service.patient_allergies(ctx["nurse"], patient.id)
    assert [a.text for a in entries] == ["penicillins (hives), severe"]
    # warns for a beta-lactam through the class name, for morphine through the free text
    texts = [w.message for w in allergy_service.medication_allergy_warnings(
        store, patient.id, "cefazolin")]
    assert any("beta-lactams" in t for t in texts)
    assert allergy_service.medication_allergy_warnings(store, patient.id, "morphine")

    again = PatientDialog(nurse, patient)
    qtbot.addWidget(again)
    again.allergy_editor.ask_removal_reason = lambda allergy: "wrong patient"
    again.allergy_editor.list.setCurrentRow(0)
    qtbot.mouseClick(again.allergy_editor.remove_button, Qt.MouseButton.LeftButton)
    again.save()
    assert allergy_service.patient_allergies(ctx["nurse"], patient.id) == []
    (row,) = store.rows("allergies", patient_id=patient.id)
    assert row["removed_reason"] == "wrong patient"


def test_patient_list_shows_the_entries(qtbot, staffed, tmp_path):
    from ketalog.ui.main_window import MainWindow

    store, ctx = staffed
    nurse = ctx["nurse"]
    patient = create_patient(nurse, PatientInput("K11", "Ode", "Ama", date(1980, 1, 1),
                                                 allergies="latex"))
    allergy_service.add_allergy(nurse, patient.id, "morphine", "itching", "moderate")
    window = MainWindow(nurse, tmp_path / "db.sqlite")
    qtbot.addWidget(window)
    window.refresh_patients()
    column = [window.patients.headerData(c, Qt.Orientation.Horizontal)
              for c in range(window.patients.columnCount())].index("Allergies")
    text = window.patients.data(window.patients.index(0, column))
    assert text == "morphine (itching), moderate; latex"
