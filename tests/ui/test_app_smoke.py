"""The GUI composition root: the store opens, the first dialog shows, the main window
lists patients and searches instantly, logout and idle lock return to the login."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from ketalog.services.patients import PatientInput, create_patient
from ketalog.ui import app as app_module
from ketalog.ui.app import GuiController
from ketalog.ui.login import FirstRunDialog, LoginDialog
from ketalog.ui.main_window import MainWindow
from tests.readiness import ACK_READINESS
from tests.ui.conftest import backed_up

ROOT = Path(__file__).resolve().parents[2]


def test_gui_smoke_opens_a_new_database_and_quits(tmp_path):
    """The real command in its own process (app.quit() must not leak into other tests)."""
    db = tmp_path / "new.sqlite"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-m", "ketalog", "--db", str(db), "--smoke"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert db.exists()
    assert "firstRunDialog shown" in out.stderr


def test_gui_smoke_never_waits_in_a_dialog_on_a_file_it_cannot_open(tmp_path):
    """A build older than the file (or a damaged file) must fail the smoke run at once,
    not sit in the recovery dialog (it once hung a benchmark for two minutes)."""
    db = tmp_path / "not-ours.sqlite"
    db.write_bytes(b"this is not a ketalog database" * 200)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-m", "ketalog", "--db", str(db), "--smoke"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "cannot open" in out.stderr


def test_gui_smoke_logs_in_from_the_environment_and_shows_the_main_window(
        tmp_path, staffed_template):
    """What `make dist` runs on the frozen binary, here from source (no build needed)."""
    import shutil

    db = tmp_path / "staffed.sqlite"
    shutil.copy(staffed_template, db)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "KETALOG_USER": "nurse",
           "KETALOG_PASSWORD": "nurse-pass-1"}
    command = [sys.executable, "-m", "ketalog", "--db", str(db), "--smoke"]
    out = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "mainWindow shown" in out.stderr
    assert not list(tmp_path.glob("backups/*.sqlite")), "a smoke run takes no closing backup"
    env["KETALOG_PASSWORD"] = "wrong-password"
    out = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 4 and "login as nurse failed" in out.stderr


def test_first_run_creates_clinic_and_admin(qtbot, store, clock):
    dialog = FirstRunDialog(store, clock)
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.clinic, "Riverside Ketamine")
    qtbot.keyClicks(dialog.username, "alice")
    qtbot.keyClicks(dialog.password, "long-password")
    qtbot.keyClicks(dialog.repeat, "long-passwort")
    dialog.create()
    assert dialog.error.text() == "The two passwords differ." and store.count("users") == 0
    dialog.repeat.clear()
    qtbot.keyClicks(dialog.repeat, "long-password")
    dialog.create()
    assert dialog.context is not None and dialog.context.user.username == "alice"
    assert store.count("protocols") >= 4


def test_login_messages_wrong_password_then_locked(qtbot, staffed, clock):
    store, _ = staffed
    dialog = LoginDialog(store, clock)
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.username, "nurse")
    for _ in range(4):
        qtbot.keyClicks(dialog.password, "nope")
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
        assert "Wrong username or password" in dialog.error.text()
    qtbot.keyClicks(dialog.password, "nope")
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    assert "locked" in dialog.error.text() and dialog.context is None


def test_main_window_search_by_name_mrn_and_dob(qtbot, staffed, tmp_path):
    store, ctx = staffed
    nurse = ctx["nurse"]
    create_patient(nurse, PatientInput("K100", "Ruiz", "Ana", date(1975, 3, 2)))
    create_patient(nurse, PatientInput("K200", "Novak", "Jan", date(1990, 7, 9)))
    window = MainWindow(nurse, tmp_path / "db.sqlite")
    qtbot.addWidget(window)
    assert window.patients.rowCount() == 2
    for text, expected in (("ru", "K100"), ("K2", "K200"), ("1990-07", "K200")):
        window.search.setText("")
        qtbot.keyClicks(window.search, text)
        assert [window.patients.row_at(i).mrn for i in range(window.patients.rowCount())] == [
            expected]
    assert "Nina Nurse, RN (nurse)" in window.statusBar().currentMessage()


def test_idle_lock_hides_windows_and_same_user_gets_them_back(qtbot, staffed, clock,
                                                              monkeypatch, tmp_path):
    store, ctx = staffed
    controller = GuiController(store, clock, tmp_path / "db.sqlite")
    controller.open_main(ctx["nurse"])
    qtbot.addWidget(controller.main)
    main = controller.main
    main.search.setText("half-typed")
    asked: list[str] = []

    def fake_auth(username: str = "") -> object:
        asked.append(username)
        assert not main.isVisible()  # locked: nothing on screen while logging in
        return ctx["nurse"]

    monkeypatch.setattr(controller, "authenticate", fake_auth)
    controller.lock()
    assert asked == ["nurse"]
    assert controller.main is main and main.isVisible()
    assert main.search.text() == "half-typed"  # nothing typed was lost
    assert store.audit_rows()[-1]["action"] == "auto_logoff"


@pytest.mark.parametrize("minutes", [0.001])
def test_idle_watcher_fires_after_the_interval(qtbot, minutes):
    fired: list[bool] = []
    watcher = app_module.IdleWatcher(minutes, lambda: fired.append(True))
    assert watcher.timer.isActive()
    qtbot.waitUntil(lambda: bool(fired), timeout=2000)


def test_main_window_lists_sessions_awaiting_signature_and_a_patients_history(
        qtbot, staffed, tmp_path, clock):
    from ketalog.domain.entities import Bag
    from ketalog.services.sessions import SessionStart, complete_session, start_session

    store, ctx = staffed
    nurse = ctx["nurse"]
    ana = create_patient(nurse, PatientInput("K100", "Ruiz", "Ana", date(1975, 3, 2)))
    jan = create_patient(nurse, PatientInput("K200", "Novak", "Jan", date(1990, 7, 9)))
    first = start_session(nurse, SessionStart(ana.id, 70.0, Bag("ketamine", 1.0, 500)))
    complete_session(nurse, first.id, acknowledged=ACK_READINESS)
    second = start_session(nurse, SessionStart(ana.id, 70.0, Bag("ketamine", 1.0, 500)))
    start_session(nurse, SessionStart(jan.id, 80.0, Bag("ketamine", 1.0, 500)))
    window = MainWindow(ctx["provider"], tmp_path / "db.sqlite")
    qtbot.addWidget(window)
    assert [window.awaiting.row_at(i).session_id for i in range(window.awaiting.rowCount())] == [
        first.id]
    assert "(1)" in window.tabs.tabText(1)
    window.search.setText("K100")
    assert [window.history.row_at(i).session_id for i in range(window.history.rowCount())] == [
        second.id, first.id]  # newest first
    assert "RUIZ, Ana (2)" in window.tabs.tabText(2)
    window.search.setText("K200")
    assert window.history.rowCount() == 1
    opened: list[int] = []
    window.open_session_requested.connect(opened.append)
    window.tabs.setCurrentIndex(1)
    window.awaiting_view.selectRow(0)
    window.findChild(type(window.menus["file"].actions()[0]), "actionOpenSession").trigger()
    assert opened == [first.id]


def test_admin_manages_protocols_nurse_has_no_admin_menu(qtbot, staffed, tmp_path):
    from ketalog.ui.protocols_dialog import ProtocolsDialog

    store, ctx = staffed
    nurse_window = MainWindow(ctx["nurse"], tmp_path / "db.sqlite")
    qtbot.addWidget(nurse_window)
    assert "admin" not in nurse_window.menus
    admin_window = MainWindow(ctx["admin"], tmp_path / "db.sqlite")
    qtbot.addWidget(admin_window)
    assert [a.text() for a in admin_window.menus["admin"].actions() if a.text()] == [
        "&Users...", "Audit &log...", "&Protocols...", "&Clinic settings...", "&Alert thresholds...",
        "Adjunct &formulary...", "&Monitor feed (HL7)...", "&Backup now",
        "Backup &settings...",
        "&Restore from backup..."]
    dialog = ProtocolsDialog(ctx["admin"])
    qtbot.addWidget(dialog)
    seeded = dialog.model.rowCount()
    form = dialog.form_for(None)
    qtbot.addWidget(form)
    qtbot.keyClicks(form.name, "Short 0.3 mg/kg/h x 1 h")
    form.rate.setValue(4.9)
    form.duration.setValue(2)  # below 5 min: the spin box clamps to its minimum
    form.save()
    assert form.result_protocol is not None and form.result_protocol.duration_min == 5
    form.name.setText("")
    form2 = dialog.form_for(None)
    qtbot.addWidget(form2)
    form2.save()  # no name: the message shows, nothing stored
    assert "name is required" in form2.error.text() and form2.result_protocol is None
    dialog.refresh()
    assert dialog.model.rowCount() == seeded + 1


def test_backup_now_then_restore_from_the_gui(qtbot, staffed, clock, monkeypatch, tmp_path):
    from ketalog.services.auth import login
    from ketalog.services.backups import list_backups
    from ketalog.ui.backup_dialogs import RestoreDialog

    store, ctx = staffed
    monkeypatch.setattr(app_module.QMessageBox, "information", lambda *a, **k: None)
    warnings: list[str] = []
    monkeypatch.setattr(app_module.QMessageBox, "warning", lambda *a, **k: warnings.append(a[2]))
    controller = GuiController(store, clock, store.path)
    controller.open_main(ctx["admin"])  # its windows are the controller's to delete
    create_patient(ctx["nurse"], PatientInput("K1", "Before", "Backup", date(1970, 1, 1)))
    assert backed_up(qtbot, controller)
    backups = list_backups(controller.backup_folder(), store.path)
    assert len(backups) == 1
    assert "Backup written and verified" in controller.main.statusBar().currentMessage()
    assert not controller.backup("scheduled")  # just taken: not due yet (none started)
    create_patient(ctx["nurse"], PatientInput("K2", "After", "Backup", date(1971, 1, 1)))

    dialog = RestoreDialog(ctx["admin"], controller.backup_folder(), store.path)
    qtbot.addWidget(dialog)
    dialog.list.setCurrentRow(0)
    assert "1 patients" in dialog.details.text() and dialog.restore_button.isEnabled()
    qtbot.keyClicks(dialog.password, "wrong")
    dialog.confirm()
    assert "wrong password" in dialog.error.text().lower() and dialog.result() == 0

    def relogin(username: str = "") -> object:
        return login(controller.store, clock, "admin", "admin-pass-1")

    monkeypatch.setattr(controller, "authenticate", relogin)
    assert controller.restore(backups[0].path)
    restored = controller.store
    assert restored is not store
    assert [r["mrn"] for r in restored.rows("patients")] == ["K1"]  # K2 came after
    assert restored.audit_rows()[-1]["action"] in ("restore", "login")
    assert any(r["action"] == "restore" for r in restored.audit_rows())
    assert list(store.path.parent.glob(f"{store.path.name}.replaced-*"))
    clock.advance(minutes=30)
    controller.shutdown()  # closing backup, attributed to the admin
    assert warnings == []
    assert len(list_backups(controller.backup_folder(), store.path)) == 2
    controller._close_all()  # its timers must not outlive the database
    controller.store.close()


def test_export_course_pdf_from_the_main_window(qtbot, staffed, tmp_path):
    from ketalog.domain.entities import Bag
    from ketalog.services.sessions import SessionStart, start_session

    store, ctx = staffed
    nurse = ctx["nurse"]
    ana = create_patient(nurse, PatientInput("K100", "Ruiz", "Ana", date(1975, 3, 2)))
    start_session(nurse, SessionStart(ana.id, 70.0, Bag("ketamine", 1.0, 500)))
    window = MainWindow(ctx["provider"], tmp_path / "db.sqlite")
    qtbot.addWidget(window)
    window.search.setText("K100")
    out = tmp_path / "course.pdf"
    assert window.export_course(out, ask=False) is not None
    qtbot.waitUntil(lambda: "Course PDF written" in window.statusBar().currentMessage(),
                    timeout=20_000)
    assert out.read_bytes().startswith(b"%PDF")
    assert store.audit_rows()[-1]["action"] == "export"


def test_clinic_settings_saved_together_or_not_at_all(qtbot, staffed):
    from ketalog.services.settings import clinic_settings
    from ketalog.ui.clinic_settings_dialog import ClinicSettingsDialog, parse_hours

    store, ctx = staffed
    admin = ctx["admin"]
    assert parse_hours("24, 72h; 7d") == (24.0, 72.0, 168.0)
    assert parse_hours("24, soon") == "soon"
    before = clinic_settings(admin)
    dialog = ClinicSettingsDialog(admin)
    qtbot.addWidget(dialog)
    fields = dialog.fields
    fields["clinic_name"].setText("  ")
    fields["paper_size"].setCurrentText("Letter")
    fields["responder_threshold_pct"].setValue(95)  # the spin box refuses what Save would
    assert fields["responder_threshold_pct"].value() == 90
    fields["follow_up_hours"].setText("1d, soon")
    dialog.save()
    assert "soon" in dialog.errors["follow_up_hours"].text()
    assert clinic_settings(admin) == before  # nothing saved, nothing typed lost
    assert fields["clinic_name"].text() == "  "
    fields["follow_up_hours"].setText("1d, 3d, 14d")
    dialog.save()
    assert dialog.errors["clinic_name"].isVisibleTo(dialog)
    assert "1-120 characters" in dialog.errors["clinic_name"].text()
    assert clinic_settings(admin) == before  # nothing saved: the paper change waited
    fields["clinic_name"].setText("Lakeside Ketamine")
    fields["responder_threshold_pct"].setValue(50)
    qtbot.keyClicks(dialog.reason, "board decision")
    dialog.save()
    after = clinic_settings(admin)
    assert (after["clinic_name"], after["paper_size"], after["responder_threshold_pct"],
            after["follow_up_hours"]) == ("Lakeside Ketamine", "Letter", 50.0,
                                          (24.0, 72.0, 336.0))
    assert store.audit_rows()[-1]["reason"] == "board decision"
    nurse_dialog = ClinicSettingsDialog(ctx["nurse"])
    qtbot.addWidget(nurse_dialog)
    nurse_dialog.save()  # services refuse, whatever the screen allows
    assert "admin" in nurse_dialog.general.text().lower()


def test_print_course_goes_to_the_spooler_and_is_audited(qtbot, staffed, tmp_path, monkeypatch):
    store, ctx = staffed
    create_patient(ctx["nurse"], PatientInput("K300", "Sato", "Yui", date(1981, 8, 8)))
    window = MainWindow(ctx["provider"], tmp_path / "db.sqlite")
    qtbot.addWidget(window)
    window.search.setText("K300")
    sent: list[tuple[str, int]] = []
    monkeypatch.setattr("ketalog.ui.pdf_output.send_to_printer",
                        lambda data, printer, copies: sent.append((printer, copies)) or "job 7")
    window.print_course(("front-desk", 1))
    qtbot.waitUntil(lambda: "Course sent to front-desk" in window.statusBar().currentMessage(),
                    timeout=20_000)
    assert sent == [("front-desk", 1)] and store.audit_rows()[-1]["action"] == "print"


def test_alert_thresholds_edit_checked_and_used_for_new_readings(qtbot, staffed, clock):
    from ketalog.domain.entities import Bag
    from ketalog.services.sessions import SessionStart, record_vitals, start_session
    from ketalog.services.settings import alert_thresholds
    from ketalog.ui.alert_thresholds_dialog import AlertThresholdsDialog

    store, ctx = staffed
    dialog = AlertThresholdsDialog(ctx["admin"])
    qtbot.addWidget(dialog)
    sbp_low, sbp_high = dialog.limits["sbp_mmhg"]
    sbp_high.set(160)
    dialog.limits["dbp_mmhg"][0].set(300)  # clamped by the spin box to the plausible 200
    dialog.save()
    assert "DBP low alert" in dialog.error.text()  # 200 is not inside 20-200
    dialog.limits["dbp_mmhg"][0].set(None)
    qtbot.keyClicks(dialog.reason, "stricter BP per medical director")
    dialog.save()
    assert dialog.result() == dialog.DialogCode.Accepted
    assert alert_thresholds(ctx["admin"]).bands["sbp_mmhg"].high == 160
    patient = create_patient(ctx["nurse"], PatientInput("K9", "Hale", "Ida", date(1960, 1, 1)))
    session = start_session(ctx["nurse"], SessionStart(patient.id, 70, Bag("ketamine", 1, 500)))
    reading = record_vitals(ctx["nurse"], session.id, {"sbp_mmhg": 165, "dbp_mmhg": 90})
    assert reading.alerts == ("sbp_mmhg",)  # flagged under the new limit, still stored
    nurse_dialog = AlertThresholdsDialog(ctx["nurse"])
    qtbot.addWidget(nurse_dialog)
    nurse_dialog.save()
    assert "admin" in nurse_dialog.error.text().lower()


def test_clinic_address_logo_and_default_vitals_interval(qtbot, staffed, tmp_path):
    import io

    from PIL import Image

    from ketalog.services.setting_declarations import CLINIC_LOGO
    from ketalog.services.settings import clinic_settings, monitoring_interval_min
    from ketalog.ui.clinic_settings_dialog import ClinicSettingsDialog

    store, ctx = staffed
    admin = ctx["admin"]
    png = io.BytesIO()
    Image.new("RGB", (120, 40), (20, 90, 160)).save(png, "PNG")
    (tmp_path / "logo.png").write_bytes(png.getvalue())
    (tmp_path / "notes.txt").write_text("not an image")
    dialog = ClinicSettingsDialog(admin)
    qtbot.addWidget(dialog)
    monitoring = dialog.fields["monitoring_interval_min"]
    address = dialog.fields["clinic_address"]
    dialog.load_logo(tmp_path / "notes.txt")
    monitoring.setValue(90)  # clamped to the declared 1-60 minutes
    assert (monitoring.value(), monitoring.maximum()) == (60, 60)
    address.setPlainText("1 Lake Road\nSpringfield\nTel 555-0100\nextra line")
    dialog.save()
    assert "PNG or JPEG" in dialog.errors[CLINIC_LOGO].text()
    assert "3 lines" in dialog.errors["clinic_address"].text()
    assert clinic_settings(admin)[CLINIC_LOGO] is None  # nothing saved
    dialog.load_logo(tmp_path / "logo.png")
    assert not dialog.logo_preview.pixmap().isNull()
    monitoring.setValue(10)
    address.setPlainText("1 Lake Road\n\nSpringfield  ")
    dialog.save()
    saved = clinic_settings(admin)
    assert (saved[CLINIC_LOGO], saved["clinic_address"]) == (png.getvalue(),
                                                             "1 Lake Road\nSpringfield")
    assert monitoring_interval_min(ctx["nurse"]) == 10


def test_planned_tab_lists_next_sessions_overdue_first_and_opens_the_course(qtbot, staffed,
                                                                            tmp_path):
    from ketalog.services.series import NewSeries, start_series

    store, ctx = staffed
    nurse = ctx["nurse"]
    soon = create_patient(nurse, PatientInput("PL1", "Soon", "Sam", date(1970, 1, 1)))
    late = create_patient(nurse, PatientInput("PL2", "Late", "Lou", date(1971, 2, 2)))
    far = create_patient(nurse, PatientInput("PL3", "Far", "Fay", date(1972, 3, 3)))
    today = date(2026, 11, 24)
    start_series(nurse, NewSeries(soon.id, "induction", 6, today, "NRS <= 4",
                                  next_session_on=date(2026, 11, 26)))
    start_series(nurse, NewSeries(far.id, "booster", 1, today, "relief back",
                                  next_session_on=date(2027, 1, 20)))  # beyond 14 days
    missed = start_series(nurse, NewSeries(late.id, "maintenance", 6, date(2026, 11, 1),
                                           "PHQ-9 < 10", next_session_on=today))
    with store.write(nurse.actor) as w:  # as if planned earlier and then missed
        w.update("treatment_series", missed.id, {"next_session_on": "2026-11-20"}, "test")
    window = MainWindow(nurse, tmp_path / "db.sqlite")
    qtbot.addWidget(window)
    assert window.tabs.tabText(3) == "P&lanned (2, 1 overdue)"
    cells = [[window.planned.data(window.planned.index(r, c)) for c in (0, 2)]
             for r in range(window.planned.rowCount())]
    assert cells == [["2026-11-20 OVERDUE 4 d", "PL2"], ["2026-11-26", "PL1"]]
    course = window.open_planned(0)
    qtbot.addWidget(course)
    assert "MRN PL2" in course.windowTitle()


def test_board_refresh_runs_only_while_the_main_window_is_shown(qtbot, staffed, tmp_path):
    store, ctx = staffed
    window = MainWindow(ctx["nurse"], tmp_path / "db.sqlite")
    qtbot.addWidget(window)
    assert not window.board_timer.isActive()
    window.show()
    qtbot.waitExposed(window)
    assert window.board_timer.isActive()
    window.close()  # a closed window must not read a store that may be closed next
    assert not window.board_timer.isActive()
