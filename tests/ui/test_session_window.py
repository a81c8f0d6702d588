"""The nurse's session screen driven through its real widgets, start to signature."""

from __future__ import annotations

import json
from datetime import date

import pytest
from PySide6.QtCore import Qt

from ketalog.domain import dosing
from ketalog.domain.entities import Bag, DoseKind
from ketalog.services import sessions as svc
from ketalog.services.protocols import list_protocols
from ketalog.ui.login import LoginDialog
from ketalog.ui.patient_dialog import PatientDialog
from ketalog.ui.session_window import SessionWindow
from ketalog.ui.vitals_entry import ENTRY_FIELDS
from tests.readiness import ACK_READINESS


def type_vitals(qtbot, window: SessionWindow, values: dict[str, str]) -> None:
    """Keyboard only: click into the first field, type, Tab to the next, Enter records."""
    window.entry.focus_first()
    for i, field in enumerate(ENTRY_FIELDS):
        widget = window.entry.inputs[field]
        if field in values:
            qtbot.keyClicks(widget, values[field])
        if i < len(ENTRY_FIELDS) - 1:
            qtbot.keyClick(widget, Qt.Key.Key_Tab)
            window.entry.inputs[ENTRY_FIELDS[i + 1]].setFocus()  # offscreen focus follows Tab
    qtbot.keyClick(window.entry.inputs[ENTRY_FIELDS[-1]], Qt.Key.Key_Return)


@pytest.fixture
def nurse_session(qtbot, staffed, clock):
    store, ctx = staffed
    login = LoginDialog(store, clock)
    qtbot.addWidget(login)
    qtbot.keyClicks(login.username, "nurse")
    qtbot.keyClicks(login.password, "nurse-pass-1")
    qtbot.keyClick(login.password, Qt.Key.Key_Return)
    nurse = login.context
    assert nurse is not None and nurse.user.username == "nurse"
    form = PatientDialog(nurse)
    qtbot.addWidget(form)
    qtbot.keyClicks(form.mrn, "K7001")
    qtbot.keyClicks(form.family, "Lindqvist")
    qtbot.keyClicks(form.given, "Åsa")
    form.birth.setDate(form.birth.date().fromString("1971-04-02", "yyyy-MM-dd"))
    qtbot.keyClicks(form.allergies, "penicillin")
    form.save()
    patient = form.result_patient
    assert patient is not None and patient.given_name == "Åsa"
    protocol = next(p for p in list_protocols(nurse) if p.indication == "neuropathic pain")
    session = svc.start_session(nurse, svc.SessionStart(
        patient.id, 80.0, Bag("ketamine", 1.0, 500, "L1", date(2027, 1, 1)),
        protocol_id=protocol.id, chair="Chair 1", series_number=1, series_total=6))
    window = SessionWindow(nurse, session.id)
    qtbot.addWidget(window)
    window.dosing.confirm_warnings = lambda warnings: True
    window.dosing.confirm_stop = lambda text: True
    window.confirm_close = lambda: True
    return store, ctx, window


def test_header_shows_two_identifiers_and_allergies(nurse_session):
    _, _, window = nurse_session
    labels = window.header.labels
    assert labels["patient"].text() == "LINDQVIST, Åsa"
    assert "K7001" in labels["mrn"].text() and "1971-04-02" in labels["dob"].text()
    assert "penicillin" in labels["allergies"].text()
    assert "K7001" in window.windowTitle()


def test_keyboard_vitals_reject_then_alert(qtbot, nurse_session):
    store, _, window = nurse_session
    type_vitals(qtbot, window, {"sbp_mmhg": "128", "dbp_mmhg": "82", "hr_bpm": "900"})
    assert "HR 900" in window.entry.error.text() and window.entry.error.isVisibleTo(window)
    assert store.count("vitals") == 0
    assert window.entry.inputs["hr_bpm"].text() == "900"  # kept for correction
    window.entry.inputs["hr_bpm"].clear()
    qtbot.keyClicks(window.entry.inputs["hr_bpm"], "76")
    qtbot.keyClick(window.entry.inputs["hr_bpm"], Qt.Key.Key_Return)
    assert store.count("vitals") == 1 and window.vitals_model.rowCount() == 1
    type_vitals(qtbot, window, {"sbp_mmhg": "186", "dbp_mmhg": "98", "hr_bpm": "88",
                                "spo2_pct": "97"})
    assert store.count("vitals") == 2
    newest = window.vitals_model.reading_at(0)
    assert newest.alerts == ("sbp_mmhg",)
    assert window.vitals_model.text(newest, "sbp_mmhg") == "186 !"
    assert window.chart.series_lengths()["sbp"] == 2


def test_rate_change_running_total_matches_domain(qtbot, nurse_session, clock):
    store, _, window = nurse_session
    window.dosing.rate.setValue(0.5)
    qtbot.mouseClick(window.dosing.buttons[DoseKind.START], Qt.MouseButton.LeftButton)
    assert window.record.infusion_state == "running"
    clock.advance(minutes=90)
    window.dosing.rate.setValue(0.75)
    qtbot.keyClicks(window.dosing.reason, "pain persists")
    qtbot.mouseClick(window.dosing.buttons[DoseKind.RATE_CHANGE], Qt.MouseButton.LeftButton)
    clock.advance(minutes=30)
    window.header.tick(window.record, clock.now())
    window.dosing._update_totals()
    expected = dosing.running_total_mg(svc.dose_events(store, window.session_id), clock.now())
    assert expected == pytest.approx(40 * 1.5 + 60 * 0.5)
    assert f"{expected:.1f} mg" in window.dosing.total_label.text()
    assert f"{expected:.1f} mg" in window.header.labels["total"].text()
    assert "60.0 mg/h" in window.dosing.state_label.text()


def test_complete_sign_locked_addendum(qtbot, nurse_session, clock):
    store, ctx, window = nurse_session
    qtbot.mouseClick(window.dosing.buttons[DoseKind.START], Qt.MouseButton.LeftButton)
    clock.advance(minutes=40)
    type_vitals(qtbot, window, {"sbp_mmhg": "130", "dbp_mmhg": "84"})
    qtbot.mouseClick(window.dosing.buttons[DoseKind.STOP], Qt.MouseButton.LeftButton)
    assert not window.complete(escort="daughter")  # 0 min observed, unscored: refused
    assert "discharge readiness" in window.message.text()
    assert window.complete(escort="daughter", acknowledged=ACK_READINESS)
    assert window.record.session.status.value == "completed"
    assert not window.entry.button.isEnabled()
    provider_window = SessionWindow(ctx["provider"], window.session_id)
    qtbot.addWidget(provider_window)
    assert provider_window.sign_button.isEnabled()
    assert not provider_window.sign("wrong-password")
    assert "wrong password" in provider_window.message.text()
    assert provider_window.sign("provider-pass-1")
    assert provider_window.record.session.status.value == "signed"
    assert "Signed by Dr. Paul Provider" in provider_window.banner.text()
    # read-only after signing: widgets disabled and the service refuses too
    assert not provider_window.entry.inputs["sbp_mmhg"].isEnabled()
    assert not any(b.isEnabled() for b in provider_window.dosing.buttons.values())
    before = store.count("vitals")
    provider_window.entry.record()
    assert store.count("vitals") == before
    assert not provider_window.mark_artifact(window.columns.ids[0], "late doubt")
    assert "locked" in provider_window.message.text() or "signed" in provider_window.message.text()
    assert provider_window.add_addendum("clarification", "BP cuff size was adult large.")
    assert any("ADDENDUM" in provider_window.signoff.item(i).text()
               for i in range(provider_window.signoff.count()))
    # a signed record (banner and status line shown) still fits the smallest screen we
    # promise, 1366x768, with room for a title bar: the entry tabs scroll instead
    provider_window.show()
    assert provider_window.minimumSizeHint().height() <= 768 - 40


def test_export_and_print_from_the_session_screen(qtbot, nurse_session, tmp_path, monkeypatch):
    store, _, window = nurse_session
    type_vitals(qtbot, window, {"sbp_mmhg": "186", "dbp_mmhg": "90", "hr_bpm": "80"})
    out = tmp_path / "session.pdf"
    future = window.export_pdf(out)
    assert future is not None
    qtbot.waitUntil(lambda: "PDF written" in window.message.text(), timeout=20_000)
    assert out.read_bytes().startswith(b"%PDF")
    audit = store.audit_rows()[-1]
    assert (audit["action"], audit["username"]) == ("export", "nurse")

    sent: list[tuple[bytes, str, int]] = []
    monkeypatch.setattr("ketalog.ui.pdf_output.send_to_printer",
                        lambda data, printer, copies: sent.append((data, printer, copies))
                        or "request id is ward-12")
    window.print_pdf(("ward-printer", 2))
    qtbot.waitUntil(lambda: "Sent to ward-printer" in window.message.text(), timeout=20_000)
    assert sent[0][0].startswith(b"%PDF") and sent[0][1:] == ("ward-printer", 2)
    audit = store.audit_rows()[-1]
    assert audit["action"] == "print" and "ward-printer" in str(audit["new_values"])


def test_print_command_uses_the_spooler(monkeypatch, tmp_path):
    from ketalog.ui.pdf_output import print_command

    monkeypatch.setattr("shutil.which", lambda name: "/usr/bin/lp" if name == "lp" else None)
    assert print_command(tmp_path / "a.pdf", "ward", 3) == [
        "/usr/bin/lp", "-n", "3", "-d", "ward", str(tmp_path / "a.pdf")]
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(FileNotFoundError, match="install CUPS"):
        print_command(tmp_path / "a.pdf", "", 1)


def test_struck_dose_event_shown_struck_and_not_counted(qtbot, nurse_session, clock):
    store, _, window = nurse_session
    window.dosing.rate.setValue(0.5)
    qtbot.mouseClick(window.dosing.buttons[DoseKind.START], Qt.MouseButton.LeftButton)
    clock.advance(minutes=10)
    window.dosing.bolus.setValue(0.25)
    qtbot.mouseClick(window.dosing.buttons[DoseKind.BOLUS], Qt.MouseButton.LeftButton)
    clock.advance(minutes=50)
    events = window.dosing.events
    assert not window.dosing.strike_button.isEnabled()  # nothing selected
    events.setCurrentRow(1)
    assert window.dosing.strike_button.isEnabled()
    window.dosing.ask_reason = lambda label: None  # cancelled: nothing changes
    assert not window.dosing.strike_selected()
    window.dosing.ask_reason = lambda label: "bolus meant for chair 2"
    qtbot.mouseClick(window.dosing.strike_button, Qt.MouseButton.LeftButton)
    item = window.dosing.events.item(1)
    assert item.font().strikeOut()
    assert "ENTERED IN ERROR: bolus meant for chair 2" in item.text()
    assert not window.dosing.events.item(0).font().strikeOut()
    window.dosing._update_totals()
    assert "Total given: 40.0 mg" in window.dosing.total_label.text()  # 40 mg/h x 1 h only
    assert [d.struck_reason for d in svc.dose_events(store, window.session_id)] == [
        "", "bolus meant for chair 2"]
    window.dosing.events.setCurrentRow(1)
    assert not window.dosing.strike_button.isEnabled()  # already struck


def test_stop_by_mistake_then_restart(qtbot, nurse_session, clock):
    _, _, window = nurse_session
    window.dosing.rate.setValue(0.5)
    start = window.dosing.buttons[DoseKind.START]
    qtbot.mouseClick(start, Qt.MouseButton.LeftButton)
    clock.advance(minutes=30)
    qtbot.mouseClick(window.dosing.buttons[DoseKind.STOP], Qt.MouseButton.LeftButton)
    assert window.record.infusion_state == "stopped"
    assert start.isEnabled() and start.text() == "Re&start infusion"
    assert "observing" in window.header.labels["status"].text()
    clock.advance(minutes=2)
    qtbot.mouseClick(start, Qt.MouseButton.LeftButton)
    assert window.record.infusion_state == "running"
    assert window.header.labels["status"].text() == "Status: infusing"
    clock.advance(minutes=30)
    window.dosing._update_totals()
    assert "Total given: 40.0 mg" in window.dosing.total_label.text()


def test_complete_dialog_lists_failed_checks_and_needs_a_reason_each(qtbot, nurse_session,
                                                                     clock):
    from ketalog.ui.complete_dialog import CompleteDialog

    store, ctx, window = nurse_session
    qtbot.mouseClick(window.dosing.buttons[DoseKind.START], Qt.MouseButton.LeftButton)
    clock.advance(minutes=40)
    qtbot.mouseClick(window.dosing.buttons[DoseKind.STOP], Qt.MouseButton.LeftButton)
    clock.advance(minutes=5)
    svc.add_score(window.ctx, window.session_id, "aldrete", "post",
                  items={"activity": 2, "respiration": 2, "circulation": 2,
                         "consciousness": 2, "spo2": 2})
    dialog = CompleteDialog(window.ctx, window.session_id, parent=window)
    qtbot.addWidget(dialog)
    failed = {c.code for c in dialog.checks if not c.passed}
    assert failed == {"observation", "escort"}  # 5 min observed, no escort; Aldrete 10 passes
    assert "Observed 5 min" in dialog.check_labels["observation"].text()
    assert "60 min" in dialog.check_labels["observation"].text()
    assert not dialog.ok.isEnabled()
    qtbot.keyClicks(dialog.escort, "daughter Maja")
    assert "escort" not in dialog.reasons and dialog.check_labels["escort"].text().startswith("✔")
    assert not dialog.ok.isEnabled()
    qtbot.keyClicks(dialog.reasons["observation"], "provider cleared early discharge")
    assert dialog.ok.isEnabled()
    dialog.when.now_box.setChecked(False)  # a time before the infusion ended is refused
    dialog.when.edit.setDateTime(dialog.when.edit.dateTime().addSecs(-20 * 60))
    assert dialog.time_error.isVisible() or not dialog.time_error.isHidden()
    assert "before the infusion ended" in dialog.time_error.text()
    assert not dialog.ok.isEnabled()
    dialog.when.now_box.setChecked(True)
    assert dialog.ok.isEnabled()
    # keyboard: Tab leaves the instructions for the readiness reasons (no Tab is typed)
    dialog.show()
    qtbot.waitExposed(dialog)
    text = dialog.instructions.toPlainText()
    dialog.instructions.setFocus()
    qtbot.keyClick(dialog.instructions, Qt.Key.Key_Tab)
    assert dialog.instructions.toPlainText() == text
    assert dialog.focusWidget() is dialog.reasons["observation"]
    assert window.complete(dialog.escort.text(), "", dialog.discharge_at(), dialog.acknowledged())
    row = store.get("sessions", window.session_id)
    stored = {c["code"]: c for c in json.loads(str(row["discharge_readiness"]))}
    assert stored["observation"]["acknowledged"] == "provider cleared early discharge"
    assert stored["escort"]["passed"] and row["discharge_escort"] == "daughter Maja"


def test_resume_at_a_new_rate_is_warned_and_carries_the_rate(qtbot, nurse_session, clock):
    store, _, window = nurse_session
    window.dosing.rate.setValue(0.5)
    qtbot.mouseClick(window.dosing.buttons[DoseKind.START], Qt.MouseButton.LeftButton)
    clock.advance(minutes=20)
    qtbot.mouseClick(window.dosing.buttons[DoseKind.PAUSE], Qt.MouseButton.LeftButton)
    clock.advance(minutes=5)
    seen = []
    window.dosing.confirm_warnings = lambda warnings: seen.extend(warnings) or False
    window.dosing.rate.setValue(2.5)  # above the 0.5-2 mg/kg/h range
    qtbot.mouseClick(window.dosing.buttons[DoseKind.RESUME], Qt.MouseButton.LeftButton)
    assert [w.code for w in seen] == ["rate_above_guideline"]
    assert window.record.infusion_state == "paused"  # not acknowledged: not recorded
    window.dosing.confirm_warnings = lambda warnings: True
    qtbot.mouseClick(window.dosing.buttons[DoseKind.RESUME], Qt.MouseButton.LeftButton)
    last = svc.dose_events(store, window.session_id)[-1]
    assert (last.kind, last.rate_mg_per_h) == (DoseKind.RESUME, 200.0)
    assert last.acknowledged_warnings
