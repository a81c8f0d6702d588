"""Starting a session through the real dialog: identity and allergies on top, weight in
lb stored as kg, the live planned dose with its warnings, errors kept beside the field."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QComboBox, QDialog, QSpinBox

from ketalog.domain.dosing import lb_to_kg
from ketalog.domain.entities import Bag
from ketalog.services.patients import PatientInput, create_patient
from ketalog.services.protocols import ProtocolInput, create_protocol, retire_protocol
from ketalog.services.sessions import SessionStart, start_session
from ketalog.ui.start_session_dialog import StartSessionDialog

PAIN = "Chronic pain 0.5 mg/kg/h x 4 h"


@pytest.fixture
def patient(staffed):
    store, ctx = staffed
    return store, ctx, create_patient(ctx["nurse"], PatientInput(
        "S1", "Raman", "Priya", date(1982, 11, 23), indication="neuropathic pain",
        allergies="morphine (itching)"))


def _dialog(qtbot, ctx, patient_id):
    dialog = StartSessionDialog(ctx, patient_id)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def _pick(combo: QComboBox, text: str) -> None:
    index = combo.findText(text)
    assert index >= 0, text
    combo.setCurrentIndex(index)


def _type(qtbot, widget, text: str) -> None:
    widget.setFocus()
    widget.selectAll()
    qtbot.keyClicks(widget, text)


def _start(qtbot, dialog) -> None:
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)


def test_identity_allergies_and_defaults(qtbot, patient, staffed):
    store, ctx, p = patient
    dialog = _dialog(qtbot, ctx["nurse"], p.id)
    assert dialog.objectName() == "startSessionDialog"
    header = dialog.identity.text()
    assert "RAMAN, Priya" in header and "MRN S1" in header and "DOB 1982-11-23" in header
    assert dialog.allergies.text() == "ALLERGIES: morphine (itching)"
    assert "bold" in dialog.allergies.styleSheet() and "b00020" in dialog.allergies.styleSheet()
    assert dialog.protocol.currentText() == PAIN  # first protocol for "neuropathic pain"
    assert (dialog.drug.text(), dialog.concentration.text(), dialog.volume.text()) == (
        "ketamine", "1", "500")
    assert dialog.expiry.date() == QDate(2027, 11, 24)  # today + 1 year
    assert [dialog.chair.itemText(i) for i in range(dialog.chair.count())] == [
        f"Chair {n}" for n in range(1, 7)]
    assert (dialog.series_k.value(), dialog.series_n.value()) == (1, 6)
    assert [dialog.provider.itemText(i) for i in range(dialog.provider.count())] == [
        "—", "Dr. Paul Provider, MD"]
    assert "Enter today's weight" in dialog.plan.text()
    bare = create_patient(ctx["nurse"], PatientInput("S2", "Berg", "Ola", date(1970, 1, 1),
                                                     indication="CRPS"))
    other = _dialog(qtbot, ctx["nurse"], bare.id)
    assert other.allergies.text() == "Allergies: none recorded"
    assert other.allergies.styleSheet() == ""
    assert other.protocol.currentText().startswith("CRPS")


def test_retired_protocols_are_not_offered(qtbot, patient):
    _, ctx, p = patient
    old = create_protocol(ctx["admin"], ProtocolInput("Old regimen", "neuropathic pain", 0.0,
                                                      0.5, 60, 3, None, 10))
    retire_protocol(ctx["admin"], old.id, "superseded")
    dialog = _dialog(qtbot, ctx["nurse"], p.id)
    names = [dialog.protocol.itemText(i) for i in range(dialog.protocol.count())]
    assert "Old regimen" not in names and PAIN in names


def test_worked_example_82_kg_planned_dose(qtbot, patient):
    _, ctx, p = patient
    dialog = _dialog(qtbot, ctx["nurse"], p.id)
    qtbot.keyClicks(dialog.weight, "82")
    assert dialog.weight_both.text() == "82.0 kg = 180.8 lb"
    plan = dialog.plan.text()
    assert "Loading bolus: 28.7 mg (0.35 mg/kg)" in plan
    assert "0.50 mg/kg/h = 41.0 mg/h = pump 41.0 mL/h at 1 mg/mL" in plan
    assert "Duration: 240 min (4 h 00 min)" in plan
    assert "Planned total: 192.7 mg (2.35 mg/kg)" in plan
    assert "Bag holds 500 mg" in plan and "second bag" not in plan
    assert dialog.warnings.isHidden() and dialog.warnings.text() == ""
    _type(qtbot, dialog.concentration, "2")
    assert "pump 20.5 mL/h at 2 mg/mL" in dialog.plan.text()
    _type(qtbot, dialog.volume, "50")
    assert "Bag holds 100 mg — less than the planned total" in dialog.plan.text()
    _type(qtbot, dialog.weight, "82,5")  # decimal comma
    assert dialog.weight_both.text().startswith("82.5 kg")


def test_start_in_pounds_stores_kilograms_as_draft(qtbot, patient):
    store, ctx, p = patient
    dialog = _dialog(qtbot, ctx["nurse"], p.id)
    _pick(dialog.weight_unit, "lb")
    qtbot.keyClicks(dialog.weight, "180")
    assert dialog.weight_both.text() == "81.6 kg = 180.0 lb"
    assert "0.50 mg/kg/h = 40.8 mg/h = pump 40.8 mL/h" in dialog.plan.text()
    qtbot.keyClicks(dialog.lot, "KX-2291")
    dialog.chair.setCurrentIndex(2)
    _type(qtbot, dialog.series_k, "2")
    _pick(dialog.provider, "Dr. Paul Provider, MD")
    _start(qtbot, dialog)
    assert dialog.result() == QDialog.DialogCode.Accepted and dialog.session_id is not None
    row = store.get("sessions", dialog.session_id)
    assert row["weight_kg"] == pytest.approx(lb_to_kg(180)) == pytest.approx(81.65, abs=0.01)
    provider_id = store.get_by("users", username="provider")["id"]
    assert (row["status"], row["chair"], row["series_number"], row["series_total"],
            row["provider_id"], row["nurse_id"]) == (
        "draft", "Chair 3", 2, 6, provider_id, ctx["nurse"].user.id)
    assert (row["bag_drug"], row["bag_concentration_mg_per_ml"], row["bag_volume_ml"],
            row["bag_lot"], row["bag_expiry"]) == ("ketamine", 1.0, 500.0, "KX-2291",
                                                   "2027-11-24")
    assert row["infusion_start_at"] is None  # the nurse starts the infusion on screen
    again = _dialog(qtbot, ctx["nurse"], p.id)
    assert (again.series_k.value(), again.series_n.value()) == (2, 6)  # one session held


def test_free_text_chair_and_no_provider(qtbot, patient):
    store, ctx, p = patient
    dialog = _dialog(qtbot, ctx["nurse"], p.id)
    qtbot.keyClicks(dialog.weight, "70")
    dialog.chair.lineEdit().selectAll()
    qtbot.keyClicks(dialog.chair.lineEdit(), "Recliner B")
    _start(qtbot, dialog)
    row = store.get("sessions", dialog.session_id)
    assert (row["chair"], row["provider_id"], row["weight_kg"]) == ("Recliner B", None, 70.0)


def test_high_rate_protocol_shows_warnings_with_source(qtbot, patient):
    store, ctx, p = patient
    create_protocol(ctx["admin"], ProtocolInput("High rate 2.5", "neuropathic pain", 0.0, 2.5,
                                                60, 3, 150.0, 10))
    dialog = _dialog(qtbot, ctx["nurse"], p.id)
    _pick(dialog.protocol, "High rate 2.5")
    assert (dialog.series_k.value(), dialog.series_n.value()) == (1, 3)
    qtbot.keyClicks(dialog.weight, "80")
    assert "2.50 mg/kg/h = 200.0 mg/h = pump 200.0 mL/h" in dialog.plan.text()
    assert "Loading bolus: none" in dialog.plan.text()
    assert dialog.warnings.isVisible()
    lines = dialog.warnings.text().split("\n")
    assert lines[0] == ("⚠ Rate 2.50 mg/kg/h is above the guideline range 0.5-2.0 mg/kg/h "
                        "[Cohen et al., Reg Anesth Pain Med 2018;43:521 (ASRA/AAPM/ASA "
                        "consensus)]")
    assert lines[1].startswith("⚠ Projected total 200.0 mg exceeds the protocol maximum of "
                               "150 mg [protocol 'High rate 2.5'")
    _pick(dialog.protocol, PAIN)
    assert dialog.warnings.isHidden() and (dialog.series_k.value(), dialog.series_n.value()) \
        == (1, 6)
    _pick(dialog.protocol, "High rate 2.5")
    _start(qtbot, dialog)  # warnings are soft: the draft may still be started
    assert store.get("sessions", dialog.session_id)["protocol_id"] is not None


def test_errors_shown_beside_fields_nothing_lost(qtbot, patient):
    store, ctx, p = patient
    dialog = _dialog(qtbot, ctx["nurse"], p.id)
    _start(qtbot, dialog)
    assert dialog.errors["weight"].text() == "Enter today's weight"
    assert dialog.session_id is None and dialog.isVisible()
    qtbot.keyClicks(dialog.weight, "8o")
    assert dialog.weight_both.text() == "not a number"
    _start(qtbot, dialog)
    assert "Weight '8o' is not a number" in dialog.errors["weight"].text()
    _type(qtbot, dialog.weight, "8")
    assert "No plan: Weight 8 kg is outside the plausible range" in dialog.plan.text()
    dialog.expiry.setDate(QDate(2026, 11, 1))
    _start(qtbot, dialog)
    assert "Weight 8 kg is outside the plausible range 20-350 kg" in dialog.errors["weight"].text()
    assert "b00020" in dialog.weight.styleSheet()
    _type(qtbot, dialog.weight, "150")
    _pick(dialog.weight_unit, "lb")
    _type(qtbot, dialog.volume, "0")
    _start(qtbot, dialog)
    assert "Bag volume must be a positive number" in dialog.errors["bag"].text()
    assert dialog.errors["weight"].isHidden()
    _type(qtbot, dialog.volume, "500")
    _start(qtbot, dialog)
    assert "past its expiry" in dialog.errors["expiry"].text()
    assert store.count("sessions") == 0
    assert (dialog.weight.text(), dialog.weight_unit.currentText()) == ("150", "lb")
    dialog.expiry.setDate(QDate(2027, 3, 1))
    _start(qtbot, dialog)
    assert store.get("sessions", dialog.session_id)["weight_kg"] == pytest.approx(lb_to_kg(150))


def test_pounds_below_the_limit_name_what_was_typed(qtbot, patient):
    _, ctx, p = patient
    dialog = _dialog(qtbot, ctx["nurse"], p.id)
    _pick(dialog.weight_unit, "lb")
    qtbot.keyClicks(dialog.weight, "30")
    _start(qtbot, dialog)
    assert dialog.errors["weight"].text().endswith("(entered 30 lb)")


def test_service_refusal_shown_inline(qtbot, patient):
    store, ctx, p = patient
    dialog = _dialog(qtbot, ctx["provider"], p.id)  # providers do not start sessions
    qtbot.keyClicks(dialog.weight, "82")
    _start(qtbot, dialog)
    assert "may not start infusion sessions" in dialog.error.text()
    assert dialog.session_id is None and store.count("sessions") == 0


def test_series_starts_again_after_a_complete_series(qtbot, patient):
    store, ctx, p = patient
    short = create_protocol(ctx["admin"], ProtocolInput("Two days", "neuropathic pain", 0.0,
                                                        0.5, 60, 2, None, 10))
    for k in (1, 2):
        start_session(ctx["nurse"], SessionStart(p.id, 80.0, Bag("ketamine", 1.0, 500),
                                                 protocol_id=short.id, series_number=k,
                                                 series_total=2))
    dialog = _dialog(qtbot, ctx["nurse"], p.id)
    _pick(dialog.protocol, "Two days")
    assert (dialog.series_k.value(), dialog.series_n.value()) == (1, 2)
    assert dialog.findChild(QSpinBox, "seriesNumber").maximum() == 2


def test_new_series_from_the_dialog_then_k_of_n_comes_from_it(qtbot, patient):
    from ketalog.domain.series import SeriesState
    from ketalog.services.series import list_series
    from ketalog.ui.series_dialogs import NewSeriesDialog

    store, ctx, p = patient
    dialog = _dialog(qtbot, ctx["nurse"], p.id)
    assert dialog.series_choice.currentText() == "No series (single session)"
    assert dialog.series_k.isEnabled()

    def fill(new: NewSeriesDialog) -> bool:
        assert new.planned.value() == 6  # the protocol's series length
        _pick(new.kind, "Booster")
        assert new.planned.value() == 1
        new.goal.clear()
        new.save()  # refused: a series needs a goal; the dialog stays
        assert not new.error.isHidden() and "goal" in new.error.text()
        _pick(new.kind, "Induction")
        new.planned.setValue(3)
        new.goal.setText("NRS <= 4 for a week")
        new.save()
        return new.result() == QDialog.DialogCode.Accepted

    dialog.open_dialog = fill  # type: ignore[method-assign]
    dialog.series_choice.activated.emit(dialog.series_choice.findText("New series..."))
    assert dialog.series_choice.currentText().startswith("Induction 0 of 3 done")
    assert not dialog.series_k.isEnabled()
    assert (dialog.series_k.value(), dialog.series_n.value()) == (1, 3)
    _type(qtbot, dialog.weight, "70")
    _start(qtbot, dialog)
    assert dialog.result() == QDialog.DialogCode.Accepted
    [series] = list_series(store, p.id)
    assert series.sessions_started == 1 and series.state is SeriesState.OPEN
    assert store.get("sessions", dialog.session_id)["series_id"] == series.series.id

    again = _dialog(qtbot, ctx["nurse"], p.id)  # the open series is preselected
    assert again.current_series().series.id == series.series.id
    assert (again.series_k.value(), again.series_n.value()) == (2, 3)


def test_cancelled_new_series_keeps_the_previous_choice(qtbot, patient):
    store, ctx, p = patient
    dialog = _dialog(qtbot, ctx["nurse"], p.id)
    dialog.open_dialog = lambda _d: False  # type: ignore[method-assign]
    dialog.series_choice.activated.emit(dialog.series_choice.findText("New series..."))
    assert dialog.series_choice.currentText() == "No series (single session)"
    assert store.count("treatment_series") == 0


def test_chronic_pain_patient_is_not_offered_the_crps_protocol(qtbot, staffed):
    _, ctx = staffed
    nurse = ctx["nurse"]
    chronic = create_patient(nurse, PatientInput("IND1", "Ache", "Al", date(1970, 1, 1),
                                                 indication="Chronic pain"))
    dialog = _dialog(qtbot, nurse, chronic.id)
    assert "CRPS" not in dialog.protocol.currentText()
    assert dialog.protocol.currentData() is None  # the nurse chooses
    crps = create_patient(nurse, PatientInput("IND2", "Foot", "Fay", date(1970, 1, 1),
                                              indication="complex regional pain syndrome"))
    other = _dialog(qtbot, nurse, crps.id)
    assert other.protocol.currentText().startswith("CRPS")
