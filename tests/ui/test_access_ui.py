"""Admin > Users (unlock with a reason, add, deactivate), Admin > Audit log (filter,
export, emergency review), and break-glass from the login dialog to the red banner and
its end by the clock."""

from __future__ import annotations

import csv
from datetime import date, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QShortcut

from ketalog.services.auth import MAX_FAILED_LOGINS, login
from ketalog.services.emergency import EMERGENCY_MINUTES, start_emergency
from ketalog.services.errors import AccountLocked, LoginFailed
from ketalog.services.patients import PatientInput, create_patient
from ketalog.ui.app import GuiController
from ketalog.ui.audit_dialog import AuditDialog
from ketalog.ui.emergency_dialog import EmergencyDialog
from ketalog.ui.login import LoginDialog
from ketalog.ui.main_window import MainWindow
from ketalog.ui.users_dialog import UsersDialog

REASON = "Only provider locked out mid-infusion, chair 3"


def _lock(store, clock, username: str) -> None:
    for _ in range(MAX_FAILED_LOGINS):
        with pytest.raises((LoginFailed, AccountLocked)):
            login(store, clock, username, "wrong")


def _cell(view, row: int, header: str) -> str:
    model = view.model()
    column = next(c for c in range(model.columnCount())
                  if model.headerData(c, Qt.Orientation.Horizontal) == header)
    return model.data(model.index(row, column))


def test_users_dialog_unlocks_only_with_a_reason(qtbot, staffed, clock):
    store, ctx = staffed
    _lock(store, clock, "nurse")
    dialog = UsersDialog(ctx["admin"])
    qtbot.addWidget(dialog)
    assert [u.username for u in dialog.model.rows()] == ["admin", "nurse", "provider"]
    dialog.select("nurse")
    row = dialog.view.selectionModel().selectedRows()[0].row()
    assert (_cell(dialog.view, row, "Locked"), _cell(dialog.view, row, "Failed logins")) == (
        "LOCKED", str(MAX_FAILED_LOGINS))
    assert dialog.buttons["unlockUser"].isEnabled()
    before = store.count("audit_log")
    answers = iter([None, "  ", "identity checked at the desk"])
    dialog.ask_reason = lambda title, question: next(answers)
    dialog.unlock_selected()  # cancelled
    dialog.unlock_selected()  # blank
    assert "reason" in dialog.message.text() and store.count("audit_log") == before
    shortcut = next(s for s in dialog.findChildren(QShortcut) if s.key().toString() == "Ctrl+U")
    shortcut.activated.emit()  # offscreen windows never become active, so no key event
    assert dialog.message.text() == "nurse unlocked."
    row = dialog.view.selectionModel().selectedRows()[0].row()
    assert _cell(dialog.view, row, "Username") == "nurse"
    assert (_cell(dialog.view, row, "Locked"), _cell(dialog.view, row, "Failed logins")) == (
        "no", "0")
    entry = store.audit_rows()[-1]
    assert (entry["username"], entry["reason"]) == ("admin", "identity checked at the desk")
    assert login(store, clock, "nurse", "nurse-pass-1").user.username == "nurse"


def test_users_dialog_adds_resets_and_deactivates(qtbot, staffed, clock):
    from ketalog.ui.users_dialog import PasswordForm, UserForm

    store, ctx = staffed
    dialog = UsersDialog(ctx["admin"])
    qtbot.addWidget(dialog)
    form = UserForm(ctx["admin"], dialog)
    qtbot.addWidget(form)
    qtbot.keyClicks(form.username, "rn2")
    qtbot.keyClicks(form.display_name, "Rita Nurse")
    qtbot.keyClicks(form.credentials, "RN")
    qtbot.keyClicks(form.password, "rita-password")
    qtbot.keyClicks(form.repeat, "rita-passwort")
    form.save()
    assert form.error.text() == "The two passwords differ." and form.created is None
    form.repeat.setText("rita-password")
    form.save()
    assert form.created is not None and form.created.credentials == "RN"
    assert {r.value for r in form.created.roles} == {"nurse"}
    reset = PasswordForm(ctx["admin"], "rn2", dialog)
    qtbot.addWidget(reset)
    reset.password.setText("short")
    reset.repeat.setText("short")
    reset.save()
    assert "at least 8" in reset.error.text()
    reset.password.setText("new-rita-pass")
    reset.repeat.setText("new-rita-pass")
    reset.save()
    assert login(store, clock, "rn2", "new-rita-pass").user.display_name == "Rita Nurse"
    dialog.refresh("rn2")
    dialog.ask_reason = lambda title, question: "left the clinic"
    assert dialog.buttons["toggleActive"].text() == "&Deactivate..."
    dialog.toggle_active()
    assert dialog.buttons["toggleActive"].text() == "Re&activate..."
    assert "NO" in _cell(dialog.view, dialog.view.selectionModel().selectedRows()[0].row(),
                         "Active")
    dialog.select("admin")
    dialog.toggle_active()
    assert "your own account" in dialog.message.text()


@pytest.fixture
def logged(staffed, clock):
    store, ctx = staffed
    nurse = ctx["nurse"]
    create_patient(nurse, PatientInput("K1", "Lind", "Eva", date(1970, 1, 1)))
    clock.advance(days=1)
    create_patient(nurse, PatientInput("K2", "Berg", "Ola", date(1980, 2, 2)))
    return store, ctx


def test_audit_viewer_filters_shows_details_and_exports(qtbot, logged, clock, tmp_path):
    store, ctx = logged
    dialog = AuditDialog(ctx["admin"])
    qtbot.addWidget(dialog)
    assert not dialog.emergency_box.isVisibleTo(dialog)  # nothing to review
    assert dialog.page.total == store.count("audit_log")
    assert dialog.status.text().startswith(f"Entries 1–{dialog.page.total} of")
    assert not dialog.older.isEnabled() and not dialog.newer.isEnabled()
    dialog.user.setCurrentIndex(dialog.user.findData("nurse"))
    qtbot.keyClicks(dialog.mrn, "K1")
    qtbot.keyClick(dialog.mrn, Qt.Key.Key_Return)
    assert [(e.username, e.table, e.mrn) for e in dialog.page.lines] == [
        ("nurse", "patients", "K1")]
    assert '"mrn": "K1"' in dialog.detail.toPlainText()
    assert _cell(dialog.view, 0, "Patient") == "K1"
    dialog.mrn.clear()
    day2 = clock.now().astimezone().date()
    dialog.since.setText(day2.isoformat())
    dialog.search()
    assert {e.mrn for e in dialog.page.lines} == {"K2"}
    dialog.until.setText("yesterday")
    dialog.search()
    assert "YYYY-MM-DD" in dialog.error.text() and dialog.model.rowCount() == 0
    dialog.until.setText((day2 + timedelta(days=1)).isoformat())
    dialog.search()
    assert not dialog.error.isVisibleTo(dialog)
    out = tmp_path / "nurse-day2.csv"
    assert dialog.export(out) == dialog.page.total == 1
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["user"], r["patient_mrn"]) for r in rows] == [("nurse", "K2")]
    assert "Exported 1 entries" in dialog.status.text()
    entry = store.audit_rows()[-1]
    assert entry["action"] == "export_audit" and '"rows": 1' in entry["new_values"]
    dialog.clear_filters()
    dialog.action.setCurrentIndex(dialog.action.findData("export_audit"))
    dialog.search()  # the export itself is in the log, under its own action
    assert [e.action for e in dialog.page.lines] == ["export_audit"]


def test_audit_viewer_pages(qtbot, logged, clock):
    store, ctx = logged
    for n in range(230):
        with store.write(ctx["nurse"].actor) as w:
            w.event("test_event", details={"n": n})
    dialog = AuditDialog(ctx["admin"])
    qtbot.addWidget(dialog)
    assert dialog.model.rowCount() == 200 and dialog.older.isEnabled()
    newest = dialog.page.lines[0].id
    dialog.older_page()
    assert dialog.page.lines[0].id == newest - 200 and dialog.newer.isEnabled()
    assert dialog.status.text().startswith("Entries 201–")
    dialog.newer_page()
    assert dialog.page.lines[0].id == newest


def test_nurse_cannot_read_the_audit_log_even_with_the_dialog(qtbot, logged):
    _, ctx = logged
    dialog = AuditDialog(ctx["nurse"])
    qtbot.addWidget(dialog)
    assert "needs role admin" in dialog.error.text() and dialog.model.rowCount() == 0


def test_break_glass_from_login_to_red_banner_to_review(qtbot, staffed, clock, tmp_path):
    store, ctx = staffed
    _lock(store, clock, "provider")
    login_dialog = LoginDialog(store, clock, username="provider")
    qtbot.addWidget(login_dialog)
    assert login_dialog.emergency_button.objectName() == "emergencyAccess"
    box = EmergencyDialog(store, clock, "provider")
    qtbot.addWidget(box)
    qtbot.keyClicks(box.password, "provider-pass-1")
    box.start()
    assert "reason" in box.error.text() and box.context is None
    qtbot.keyClicks(box.password, "provider-pass-1")
    qtbot.keyClicks(box.reason, REASON)
    box.start()
    login_dialog.emergency(box)
    grant = login_dialog.context
    assert grant is not None and grant.emergency is not None
    window = MainWindow(grant, tmp_path / "db.sqlite")
    qtbot.addWidget(window)
    assert window.banner.isVisibleTo(window)
    assert window.banner.text().startswith(f"EMERGENCY ACCESS #{grant.emergency.id}")
    assert REASON in window.banner.text() and "#b00020" in window.banner.styleSheet()
    assert "admin" not in window.menus
    admin_window = MainWindow(ctx["admin"], tmp_path / "db.sqlite")
    qtbot.addWidget(admin_window)
    assert "1 emergency access await" in admin_window.banner.text()

    audit = AuditDialog(ctx["admin"])
    qtbot.addWidget(audit)
    assert audit.emergency_box.isVisibleTo(audit)
    assert "provider" in audit.emergency_list.item(0).text()
    assert "account was locked" in audit.emergency_list.item(0).text()
    audit.show_emergency_entries()
    assert {e.username.split(" [")[0] for e in audit.page.lines} == {"provider"}
    audit.ask_reason = lambda title, question: "Phoned Dr Provider; entries match the chart"
    assert audit.acknowledge_selected()
    assert not audit.emergency_box.isVisibleTo(audit)
    assert store.audit_rows()[-1]["action"] == "emergency_access_reviewed"


def test_controller_ends_emergency_access_by_the_clock(qtbot, staffed, clock, monkeypatch,
                                                       tmp_path):
    store, ctx = staffed
    grant = start_emergency(store, clock, "nurse", "nurse-pass-1", REASON)
    controller = GuiController(store, clock, tmp_path / "db.sqlite")
    controller.open_main(grant)
    qtbot.addWidget(controller.main)
    told: list[str] = []
    monkeypatch.setattr(controller, "notify", lambda title, text: told.append(title))
    monkeypatch.setattr(controller, "authenticate", lambda username="": ctx["nurse"])
    clock.advance(minutes=EMERGENCY_MINUTES - 1)
    controller.idle.poke()
    assert controller.check_access() is None
    clock.advance(minutes=1)
    controller.idle.poke()
    assert controller.check_access() == "emergency access ended"
    assert told == ["Emergency access ended"]
    assert controller.ctx is ctx["nurse"] and controller.main is not None
    qtbot.addWidget(controller.main)
    assert not controller.main.banner.isVisibleTo(controller.main)
    assert store.get("emergency_access", grant.emergency.id)["ended_at"] is not None
    actions = [r["action"] for r in store.audit_rows()][-3:]
    assert actions == ["auto_logoff", "update", "emergency_access_ended"]


def test_own_password_change_asks_for_the_current_one(qtbot, staffed, clock):
    from ketalog.ui.users_dialog import PasswordForm

    store, ctx = staffed
    form = PasswordForm(ctx["nurse"], "nurse")
    qtbot.addWidget(form)
    assert form.own and form.current.isVisibleTo(form)
    form.current.setText("not-my-password")
    form.password.setText("a-new-nurse-pass")
    form.repeat.setText("a-new-nurse-pass")
    form.save()
    assert "wrong password" in form.error.text()
    assert store.get("users", ctx["nurse"].user.id)["failed_logins"] == 1  # counts to lockout
    form.current.setText("nurse-pass-1")
    form.save()
    assert form.result() == form.DialogCode.Accepted
    assert login(store, clock, "nurse", "a-new-nurse-pass").user.username == "nurse"
