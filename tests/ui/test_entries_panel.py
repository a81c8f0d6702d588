"""Medications, side effects, scores and notes driven through the real widgets, checked
on screen and in the database."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QTableWidget

from ketalog.domain.entities import Bag
from ketalog.services import sessions as svc
from ketalog.services.patients import PatientInput, create_patient
from ketalog.services.record import load_record
from ketalog.ui.entries_panel import EntriesPanel
from tests.readiness import ACK_READINESS

NOW_LOCAL = datetime(2026, 11, 24, 14, 0, tzinfo=UTC).astimezone().strftime("%H:%M")


def _panel(qtbot, store, ctx, session_id):
    widget = EntriesPanel(ctx, session_id)
    qtbot.addWidget(widget)
    widget.changed.connect(lambda: widget.show_record(load_record(ctx, session_id)))
    widget.show_record(load_record(ctx, session_id))
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def live(qtbot, staffed):
    store, ctx = staffed
    nurse = ctx["nurse"]
    patient = create_patient(nurse, PatientInput("E1", "Okafor", "Daniel", date(1996, 1, 23),
                                                 allergies="latex"))
    session = svc.start_session(nurse, svc.SessionStart(patient.id, 75.0,
                                                        Bag("ketamine", 1.0, 500)))
    return store, ctx, session, _panel(qtbot, store, nurse, session.id)


def _pick(combo: QComboBox, text: str) -> None:
    index = combo.findText(text, Qt.MatchFlag.MatchStartsWith)
    assert index >= 0, text
    combo.setCurrentIndex(index)


def _pick_value(combo: QComboBox, value: int) -> None:
    combo.setCurrentIndex(combo.findData(value))


def _click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _click_row(qtbot, table: QTableWidget, row: int) -> None:
    rect = table.visualItemRect(table.item(row, 1))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def _cells(table: QTableWidget, row: int) -> list[str]:
    return [table.item(row, c).text() for c in range(table.columnCount())]


def test_tabs_and_names(live):
    *_, widget = live
    assert widget.objectName() == "entriesPanel"
    assert [widget.tabText(i) for i in range(widget.count())] == [
        "Medications", "Side effects", "Scores", "Notes"]


def test_adjunct_added_with_enter_listed_and_stored(qtbot, live):
    store, _, session, widget = live
    qtbot.keyClicks(widget.drug.lineEdit(), "ondansetron")
    qtbot.keyClicks(widget.dose, "4")
    _pick(widget.unit, "mg")
    _pick(widget.route, "IV")
    qtbot.keyClicks(widget.med_reason.lineEdit(), "nausea")
    with qtbot.waitSignal(widget.changed, timeout=1000):
        qtbot.keyClick(widget.med_reason.lineEdit(), Qt.Key.Key_Return)
    [row] = store.rows("adjunct_medications")
    assert (row["session_id"], row["drug"], row["dose"], row["unit"], row["route"],
            row["reason"], row["at"]) == (session.id, "ondansetron", 4.0, "mg", "IV", "nausea",
                                          "2026-11-24T14:00:00.000Z")
    assert _cells(widget.med_table, 0) == [NOW_LOCAL, "ondansetron", "4 mg", "IV", "nausea"]
    assert widget.drug.currentText() == "" and widget.dose.text() == ""
    assert widget.med_reason.currentText() == "" and widget.med_error.isHidden()
    assert widget.drug.count() == 4  # free text is not appended to the suggestions
    qtbot.waitUntil(widget.drug.hasFocus, timeout=1000)
    qtbot.keyClicks(widget.drug, "labetalol")  # typed into the focused combo box itself
    qtbot.keyClicks(widget.dose, "10")
    widget.med_reason.setFocus()
    qtbot.keyClicks(widget.med_reason, "hypertension")
    qtbot.keyClick(widget.med_reason, Qt.Key.Key_Return)
    assert [(r["drug"], r["reason"]) for r in store.rows("adjunct_medications", order_by="id")] \
        == [("ondansetron", "nausea"), ("labetalol", "hypertension")]
    assert widget.med_error.isHidden() and widget.med_table.rowCount() == 2


def test_free_text_drug_decimal_comma_and_mouse_click(qtbot, live):
    store, _, _, widget = live
    qtbot.keyClicks(widget.drug.lineEdit(), "diphenhydramine")
    qtbot.keyClicks(widget.dose, "12,5")
    _pick(widget.unit, "mg")
    _pick(widget.route, "PO")
    _click(qtbot, widget.add_med_button)
    [row] = store.rows("adjunct_medications")
    assert (row["drug"], row["dose"], row["route"], row["reason"]) == (
        "diphenhydramine", 12.5, "PO", "")
    assert _cells(widget.med_table, 0)[2] == "12.5 mg"


def test_invalid_dose_shows_error_stores_nothing_keeps_input(qtbot, live):
    store, _, _, widget = live
    qtbot.keyClicks(widget.drug.lineEdit(), "midazolam")
    qtbot.keyClicks(widget.dose, "2 mg")
    with qtbot.assertNotEmitted(widget.changed):
        _click(qtbot, widget.add_med_button)
    assert widget.med_error.isVisible()
    assert "Not recorded" in widget.med_error.text() and "not a number" in widget.med_error.text()
    assert store.count("adjunct_medications") == 0
    assert (widget.drug.currentText(), widget.dose.text()) == ("midazolam", "2 mg")
    assert "b00020" in widget.dose.styleSheet()  # the field itself is marked
    widget.dose.clear()
    qtbot.keyClicks(widget.dose, "0")
    _click(qtbot, widget.add_med_button)
    assert "Dose must be a positive number" in widget.med_error.text()
    assert store.count("adjunct_medications") == 0
    widget.dose.clear()
    qtbot.keyClicks(widget.dose, "2")
    _click(qtbot, widget.add_med_button)
    assert store.count("adjunct_medications") == 1 and widget.med_error.isHidden()
    assert widget.dose.styleSheet() == ""


def test_missing_drug_is_refused(qtbot, live):
    store, _, _, widget = live
    qtbot.keyClicks(widget.dose, "4")
    _click(qtbot, widget.add_med_button)
    assert "Drug name is required" in widget.med_error.text()
    assert store.count("adjunct_medications") == 0 and widget.dose.text() == "4"


def test_side_effect_added_then_resolved(qtbot, live, clock):
    store, _, _, widget = live
    widget.setCurrentIndex(1)
    _pick(widget.se_kind, "nausea")
    _pick(widget.se_severity, "moderate")
    qtbot.keyClicks(widget.se_action, "ondansetron 4 mg IV")
    _click(qtbot, widget.add_se_button)
    [row] = store.rows("side_effects")
    assert (row["kind"], row["severity"], row["action"], row["resolved_at"]) == (
        "nausea", "moderate", "ondansetron 4 mg IV", None)
    assert _cells(widget.se_table, 0) == [NOW_LOCAL, "nausea", "moderate",
                                          "ondansetron 4 mg IV", "ongoing"]
    assert widget.se_action.text() == ""
    assert not widget.resolve_button.isEnabled()  # nothing selected yet
    clock.advance(minutes=20)
    _click_row(qtbot, widget.se_table, 0)
    assert widget.resolve_button.isEnabled()
    with qtbot.waitSignal(widget.changed, timeout=1000):
        _click(qtbot, widget.resolve_button)
    assert store.rows("side_effects")[0]["resolved_at"] == "2026-11-24T14:20:00.000Z"
    resolved_local = datetime(2026, 11, 24, 14, 20, tzinfo=UTC).astimezone().strftime("%H:%M")
    assert widget.se_table.item(0, 4).text() == resolved_local
    _click_row(qtbot, widget.se_table, 0)
    assert not widget.resolve_button.isEnabled()  # already resolved: nothing to mark


def test_side_effect_resolved_now_checkbox(qtbot, live):
    store, _, _, widget = live
    _pick(widget.se_kind, "dizziness")
    qtbot.keyClicks(widget.se_action, "paused")
    widget.se_resolved.setChecked(True)
    qtbot.keyClick(widget.se_action, Qt.Key.Key_Return)
    [row] = store.rows("side_effects")
    assert (row["kind"], row["severity"], row["resolved_at"]) == (
        "dizziness", "mild", "2026-11-24T14:00:00.000Z")
    assert widget.se_table.item(0, 4).text() == NOW_LOCAL
    assert not widget.se_resolved.isChecked()


def test_nrs_pre_7_added(qtbot, live):
    store, _, _, widget = live
    widget.setCurrentIndex(2)
    assert widget.nrs_phase.currentText() == "pre"  # draft session: before the infusion
    _pick(widget.nrs_phase, "pre")
    widget.nrs_value.setFocus()
    widget.nrs_value.selectAll()
    qtbot.keyClicks(widget.nrs_value, "7")
    assert widget.nrs_value.value() == 7
    _click(qtbot, widget.add_nrs_button)
    [row] = store.rows("scores")
    assert (row["scale"], row["phase"], row["value"]) == ("nrs", "pre", 7)
    assert _cells(widget.score_table, 0) == [NOW_LOCAL, "NRS pain", "pre", "7", "severe"]


def test_aldrete_22221_is_9_and_ready(qtbot, live):
    store, _, _, widget = live
    box = widget.scale_boxes["aldrete"]
    assert "so far" in box.total.text()  # every item starts unscored
    _click(qtbot, box.button)
    assert "value missing" in widget.score_error.text() and store.count("scores") == 0
    for name, value in zip(box.inputs, (2, 2, 2, 2, 1), strict=True):
        _pick_value(box.inputs[name], value)
    assert box.total.text().startswith("9/10")
    assert "ready for discharge" in box.total.text() and "not ready" not in box.total.text()
    _pick_value(box.inputs["spo2"], 0)
    assert box.total.text().startswith("8/10") and "not ready" in box.total.text()
    _pick_value(box.inputs["spo2"], 1)
    _click(qtbot, box.button)
    [row] = store.rows("scores")
    assert (row["scale"], row["phase"], row["value"]) == ("aldrete", "post", 9)
    assert json.loads(row["items"]) == {"activity": 2, "circulation": 2, "consciousness": 2,
                                        "respiration": 2, "spo2": 1}
    assert widget.score_table.item(0, 4).text().startswith("ready for discharge")
    assert "so far" in box.total.text()  # reset for the next assessment


def test_cadss_total_updates_live(qtbot, live):
    store, _, _, widget = live
    box = widget.scale_boxes["cadss6"]
    assert len(box.inputs) == 6 and box.total.text().startswith("0/24")
    for spin, value in zip(box.inputs.values(), (1, 2, 0, 0, 0, 3), strict=True):
        spin.setValue(value)
    assert box.total.text().startswith("6/24") and "below" in box.total.text()
    spin = box.inputs["item_2"]
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, "4")
    assert box.total.text().startswith("8/24") and "notable" in box.total.text()
    _click(qtbot, box.button)
    [row] = store.rows("scores")
    assert (row["scale"], row["phase"], row["value"]) == ("cadss6", "intra", 8)


def test_phq9_at_the_infusion_with_item_9_flagged(qtbot, live):
    """The mood indication's baseline is taken at the infusion; any answer above 'not at
    all' to item 9 is a safety flag whatever the total."""
    store, _, _, widget = live
    box = widget.scale_boxes["phq9"]
    assert box.phase.currentText() == "pre" and "so far" in box.total.text()
    _click(qtbot, box.button)  # nothing answered: refused, nothing stored
    assert store.count("scores") == 0
    for n in range(1, 10):
        _pick_value(box.inputs[f"item_{n}"], 0)
    assert box.total.text().startswith("0/27")
    _pick_value(box.inputs["item_9"], 1)
    assert "item 9 positive" in box.total.text()
    _click(qtbot, box.button)
    [row] = store.rows("scores")
    assert (row["scale"], row["phase"], row["value"]) == ("phq9", "pre", 1)
    assert "item 9 positive" in widget.score_table.item(0, 4).text()


def test_padss_and_moaas(qtbot, live):
    store, _, _, widget = live
    box = widget.scale_boxes["padss"]
    for name, value in zip(box.inputs, (2, 2, 2, 1), strict=True):
        _pick_value(box.inputs[name], value)
    assert box.total.text().startswith("7/8")
    _click(qtbot, box.button)
    with qtbot.assertNotEmitted(widget.changed):
        _click(qtbot, widget.add_moaas_button)  # no level chosen
    assert "choose the level" in widget.score_error.text()
    assert widget.moaas_phase.currentText() == "intra"
    assert widget.moaas_value.count() == 6
    _pick(widget.moaas_value, "3")
    _click(qtbot, widget.add_moaas_button)
    scores = {r["scale"]: (r["phase"], r["value"]) for r in store.rows("scores")}
    assert scores == {"padss": ("post", 7), "moaas": ("intra", 3)}
    assert widget.score_table.rowCount() == 2 and widget.score_error.isHidden()


def test_note_added_with_ctrl_return(qtbot, live):
    store, _, _, widget = live
    widget.setCurrentIndex(3)
    widget.note_text.setFocus()
    qtbot.keyClicks(widget.note_text, "Tolerating well, music on.")
    qtbot.keyClick(widget.note_text, Qt.Key.Key_Return)  # plain Enter: a new line only
    assert store.count("notes") == 0
    qtbot.keyClicks(widget.note_text, "Eyes closed.")
    with qtbot.waitSignal(widget.changed, timeout=1000):
        qtbot.keyClick(widget.note_text, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert [r["text"] for r in store.rows("notes")] == ["Tolerating well, music on.\nEyes closed."]
    assert _cells(widget.note_table, 0)[:2] == [NOW_LOCAL, "Nina Nurse, RN"]
    assert widget.note_text.toPlainText() == ""
    qtbot.keyClick(widget.note_text, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert "A note cannot be empty" in widget.note_error.text() and store.count("notes") == 1


def test_set_read_only_disables_inputs_lists_stay_readable(qtbot, live):
    *_, widget = live
    widget.set_read_only(True)
    for name in ("adjunctDrug", "adjunctDose", "addAdjunct", "sideEffectKind", "addSideEffect",
                 "resolveSideEffect", "nrsValue", "add_nrs", "moaasValue", "aldrete_activity",
                 "add_padss", "cadss6_item_1", "noteText", "addNote"):
        assert not widget.findChild(object, name).isEnabled(), name
    for name in ("adjunctTable", "sideEffectTable", "scoreTable", "noteTable"):
        assert widget.findChild(QTableWidget, name).isEnabled(), name
    widget.set_read_only(False)
    assert widget.dose.isEnabled() and widget.note_text.isEnabled()
    assert widget.scale_boxes["aldrete"].isEnabled()
    assert not widget.resolve_button.isEnabled()  # still nothing selected


def test_service_refusal_shown_in_the_tab(qtbot, live):
    store, ctx, session, widget = live
    svc.complete_session(ctx["nurse"], session.id, acknowledged=ACK_READINESS)
    widget.setCurrentIndex(3)
    qtbot.keyClicks(widget.note_text, "late thought")
    _click(qtbot, widget.add_note_button)
    assert "completed" in widget.note_error.text() and "reopen" in widget.note_error.text()
    assert widget.note_text.toPlainText() == "late thought" and store.count("notes") == 0
    admin_panel = _panel(qtbot, store, ctx["admin"], session.id)
    admin_panel.nrs_value.setValue(3)
    _click(qtbot, admin_panel.add_nrs_button)
    assert "may not record scores" in admin_panel.score_error.text()


def test_every_entry_kind_can_be_struck_with_a_reason(qtbot, live, tmp_path):
    from ketalog.services.entered_in_error import EntryKind
    from ketalog.services.exports import export_session_pdf
    from ketalog.services.summary import nrs_pre_post
    from tests.reports.test_session_pdf import pages_text

    store, ctx, session, panel = live
    nurse = ctx["nurse"]
    svc.add_adjunct(nurse, session.id, "ondansetron", 4, "mg", "IV", "nausea")
    svc.add_side_effect(nurse, session.id, "nausea", "mild")
    svc.add_score(nurse, session.id, "nrs", "pre", value=9)
    svc.add_score(nurse, session.id, "nrs", "pre", value=6)
    svc.add_note(nurse, session.id, "patient in chair 4")
    panel.show_record(load_record(ctx["nurse"], session.id))
    reasons = {EntryKind.ADJUNCT: "given to another patient",
               EntryKind.SIDE_EFFECT: "recorded on the wrong session",
               EntryKind.SCORE: "typed 9 for 6", EntryKind.NOTE: "wrong chair"}
    tables = {EntryKind.ADJUNCT: panel.med_table, EntryKind.SIDE_EFFECT: panel.se_table,
              EntryKind.SCORE: panel.score_table, EntryKind.NOTE: panel.note_table}
    assert nrs_pre_post(store, session.id) == (9, None)
    for kind, reason in reasons.items():
        button = panel.strike_buttons[kind]
        assert not button.isEnabled()
        tables[kind].selectRow(0)
        assert button.isEnabled()
        panel.ask_strike_reason = lambda label, r=reason: r
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        table = tables[kind]
        assert table.item(0, 0).font().strikeOut()
        last = table.item(0, table.columnCount() - 1).text()
        assert f"ENTERED IN ERROR: {reason}" in last
    assert nrs_pre_post(store, session.id) == (6, None)  # the struck 9 no longer counts
    record = load_record(ctx["nurse"], session.id)
    assert record.adjuncts[0].struck_reason == "given to another patient"
    assert store.count("notes") == 1 and store.count("adjunct_medications") == 1
    text = " ".join(" ".join(pages_text(export_session_pdf(nurse, session.id,
                                                           tmp_path / "s.pdf"))).split())
    for reason in reasons.values():
        assert f"ENTERED IN ERROR: {reason}" in text
    assert "Pain NRS" not in text or "9 →" not in text
