"""The step-by-step pictures of the user guides (docs/guide-*.md) in docs/screenshots/guide/.

A fresh demo clinic on the same fixed clock as make_screenshots.py, then one new patient
logged from arrival to signature through the real dialogs and panels: the clock is moved
by hand between steps, so every picture only changes when the screens do. Modal dialogs
(dose warning, sign) are grabbed from inside their own event loop and then answered.

Run with `make screenshots` (Xvfb when installed, offscreen otherwise)."""

from __future__ import annotations

import faulthandler
import os
import shutil
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QDate, QPoint, QRect, QTimer  # noqa: E402
from PySide6.QtWidgets import (  # noqa: E402
    QAbstractButton,
    QApplication,
    QDialog,
    QMenu,
    QWidget,
)

from ketalog.domain.clock import FixedClock  # noqa: E402
from ketalog.domain.entities import DoseKind  # noqa: E402
from ketalog.paths import backup_dir  # noqa: E402
from ketalog.services.auth import login  # noqa: E402
from ketalog.services.backups import run_backup  # noqa: E402
from ketalog.services.context import Context  # noqa: E402
from ketalog.services.demo import create_demo  # noqa: E402
from ketalog.services.patients import get_patient  # noqa: E402
from ketalog.store.connection import open_store  # noqa: E402
from ketalog.store.store import Store  # noqa: E402
from ketalog.ui.alert_thresholds_dialog import AlertThresholdsDialog  # noqa: E402
from ketalog.ui.backup_dialogs import BackupSettingsDialog, RestoreDialog  # noqa: E402
from ketalog.ui.clinic_settings_dialog import ClinicSettingsDialog  # noqa: E402
from ketalog.ui.confirmations import SignDialog  # noqa: E402
from ketalog.ui.course_export_dialog import CourseRangeDialog  # noqa: E402
from ketalog.ui.course_window import CourseWindow  # noqa: E402
from ketalog.ui.device_feed_dialog import FeedSettingsDialog  # noqa: E402
from ketalog.ui.follow_up_dialog import FollowUpDialog  # noqa: E402
from ketalog.ui.login import FirstRunDialog  # noqa: E402
from ketalog.ui.main_window import MainWindow  # noqa: E402
from ketalog.ui.patient_dialog import PatientDialog  # noqa: E402
from ketalog.ui.protocols_dialog import ProtocolsDialog  # noqa: E402
from ketalog.ui.session_window import AddendumDialog, CompleteDialog, SessionWindow  # noqa: E402
from ketalog.ui.start_session_dialog import StartSessionDialog  # noqa: E402

NOW = datetime(2026, 11, 24, 14, 10, tzinfo=UTC)  # as make_screenshots.py
OUT = Path(__file__).resolve().parent / "screenshots" / "guide"
WORK = Path("/tmp/ketalog-guide-screenshots")  # fixed, so paths in the pictures are stable
SIZE = (1366, 768)


class Shots:
    """Grabs widgets (or a part of one) into OUT, after the event loop has laid them out."""

    def __init__(self, app: QApplication) -> None:
        self.app = app
        self.written: list[Path] = []

    def settle(self) -> None:
        for _ in range(4):
            self.app.processEvents()

    def save(self, widget: QWidget, name: str,
             rect: Callable[[], QRect] | None = None) -> None:
        """`rect` is asked after the layout pass (sizes are only right once shown)."""
        widget.show()
        self.settle()
        path = OUT / name
        (widget.grab(rect()) if rect is not None else widget.grab()).save(str(path))
        self.written.append(path)
        print(f"wrote {path}")

    def modal(self, name: str, answer: Callable[[QDialog], None],
              trigger: Callable[[], object]) -> None:
        """Run `trigger`, which opens a modal dialog; grab that dialog, then `answer` it."""
        def fire() -> None:
            dialog = QApplication.activeModalWidget()
            if not isinstance(dialog, QDialog):
                QTimer.singleShot(50, fire)
                return
            self.save(dialog, name)
            answer(dialog)

        QTimer.singleShot(100, fire)
        trigger()
        self.settle()

    def menu(self, window: QWidget, menu: QMenu, name: str) -> None:
        window.show()
        self.settle()
        menu.popup(window.mapToGlobal(QPoint(40, 30)))
        self.settle()
        self.save(menu, name)
        menu.hide()


def press(dialog: QDialog, text: str) -> None:
    """Click the dialog's button whose text (without the & of its shortcut) is `text`."""
    for button in dialog.findChildren(QAbstractButton):
        if button.text().replace("&", "") == text:
            button.click()
            return
    raise LookupError(f"no button {text!r} in {dialog.windowTitle()!r}")


def above(widget: QWidget, window: QWidget, margin: int = 6) -> Callable[[], QRect]:
    """The window from its top down to the bottom of `widget` (header and entry row)."""
    def rect() -> QRect:
        bottom = widget.mapTo(window, QPoint(0, widget.height())).y() + margin
        return QRect(0, 0, window.width(), bottom)

    return rect


def tick(window: SessionWindow) -> None:
    """What the window's 1 s and 5 s timers would show now (they may not have fired)."""
    window.header.tick(window.record, window.ctx.clock.now())
    window.dosing._update_totals()  # noqa: SLF001 (the panel's own timer slot)


def type_vitals(window: SessionWindow, values: dict[str, str]) -> None:
    for field, edit in window.entry.inputs.items():
        edit.setText(values.get(field, ""))


def nurse_walkthrough(shots: Shots, clock: FixedClock, store: Store, nurse: Context,
                      db: Path) -> int:
    """New patient to completed session; returns the session id."""
    main = MainWindow(nurse, db)
    main.resize(*SIZE)
    main.search.setText("Achterberg")  # not a patient yet: the list is empty
    shots.save(main, "nurse-search-none.png")
    shots.menu(main, main.menus["patient"], "nurse-patient-menu.png")

    form = PatientDialog(nurse, parent=main)
    form.mrn.setText("K204517")
    form.family.setText("Achterberg")
    form.given.setText("Grace")
    form.birth.setDate(QDate(1968, 3, 14))
    form.sex.setCurrentText("female")
    form.allergies.setText("morphine (itching)")
    form.indication.setCurrentText("neuropathic pain")
    form.referring.setText("Dr. Hale, pain clinic")
    form.screen.setText("no psychosis, BP controlled")
    form.has_consent.setChecked(True)
    shots.save(form, "nurse-new-patient.png")
    form.save()
    patient = form.result_patient
    assert patient is not None and patient.id is not None
    form.close()
    main.search.setText("K204517")
    shots.save(main, "nurse-search-found.png")

    clock.set(NOW + timedelta(minutes=10))  # 14:20, the patient is in the chair
    start = StartSessionDialog(nurse, patient.id, parent=main)
    start.weight.setText("82")
    start.lot.setText("KT2611-04")
    start.expiry.setDate(QDate(2027, 6, 30))
    start.chair.setCurrentText("Chair 5")
    start.provider.setCurrentIndex(1)
    start.update_plan()
    shots.save(start, "nurse-start-session.png")
    start.start()
    session_id = start.session_id
    assert session_id is not None
    start.close()

    window = SessionWindow(nurse, session_id)
    window.confirm_close = lambda: True  # type: ignore[method-assign]
    window.resize(*SIZE)
    type_vitals(window, {"sbp_mmhg": "132", "dbp_mmhg": "84", "hr_bpm": "76",
                         "spo2_pct": "98", "rr_per_min": "14", "temp_c": "36.7"})
    tick(window)
    shots.save(window, "nurse-vitals-typed.png", above(window.entry, window))
    window.entry.record()
    window.entries.nrs_value.setValue(7)
    window.entries.add_nrs()  # phase "pre" before the infusion starts

    clock.advance(minutes=5)  # 14:25 start
    window.dosing.submit(DoseKind.START)
    clock.advance(minutes=1)
    window.dosing.bolus.setValue(0.5)  # above the pain guideline's 0.35 mg/kg
    window.dosing.reason.setText("loading dose per order")
    shots.modal("nurse-dose-warning.png", lambda d: press(d, "Acknowledge and record"),
                lambda: window.dosing.buttons[DoseKind.BOLUS].click())
    window.dosing.bolus.setValue(0.0)
    window.dosing.confirm_warnings = lambda warnings: True  # pictured once is enough
    window.dosing.confirm_stop = lambda text: True

    clock.advance(minutes=14)  # 14:40
    type_vitals(window, {"sbp_mmhg": "186", "dbp_mmhg": "98", "hr_bpm": "92",
                         "spo2_pct": "97", "rr_per_min": "16"})
    window.entry.record()  # stored, SBP flagged (alert above 180 mmHg)
    clock.advance(minutes=1)
    type_vitals(window, {"sbp_mmhg": "400", "dbp_mmhg": "96", "hr_bpm": "90"})
    window.entry.record()  # refused: outside 40-300 mmHg
    tick(window)
    shots.save(window, "nurse-vitals-rejected.png", above(window.entry, window))
    type_vitals(window, {"sbp_mmhg": "164", "dbp_mmhg": "96", "hr_bpm": "90",
                         "spo2_pct": "97", "rr_per_min": "15"})
    window.entry.record()
    window.entry.when.now_box.setChecked(False)  # a reading written on paper at 14:30
    window.entry.when.edit.setDateTime(window.entry.when.edit.dateTime().addSecs(-11 * 60))
    type_vitals(window, {"sbp_mmhg": "150", "dbp_mmhg": "90", "hr_bpm": "86",
                         "spo2_pct": "98", "rr_per_min": "15"})
    tick(window)
    shots.save(window, "nurse-late-entry.png", above(window.entry, window))
    window.entry.record()

    clock.advance(minutes=5)  # 14:46
    window.entries.setCurrentIndex(1)
    window.entries.se_kind.setCurrentText("nausea")
    window.entries.se_severity.setCurrentText("mild")
    window.entries.se_action.setText("ondansetron 4 mg IV")
    window.entries.add_side_effect()
    window.entries.se_kind.setCurrentText("hypertension")
    window.entries.se_severity.setCurrentText("moderate")
    window.entries.se_action.setText("rate halved")
    shots.save(window.entries, "nurse-side-effect.png")
    window.entries.add_side_effect()
    window.entries.setCurrentIndex(0)
    window.entries.drug.setEditText("ondansetron")
    window.entries.dose.setText("4")
    window.entries.unit.setCurrentText("mg")
    window.entries.route.setCurrentText("IV")
    window.entries.med_reason.setEditText("nausea")
    window.entries.add_medication()
    window.entries.drug.setEditText("midazolam")
    window.entries.dose.setText("1")
    window.entries.med_reason.setEditText("anxiety")
    shots.save(window.entries, "nurse-medication.png")
    window.entries.drug.setEditText("")
    window.entries.dose.clear()
    window.entries.med_reason.setEditText("")
    window.dosing.rate.setValue(0.25)
    window.dosing.reason.setText("hypertension")
    window.dosing.submit(DoseKind.RATE_CHANGE)

    clock.advance(minutes=14)  # 15:00
    window.entries.setCurrentIndex(2)
    window.entries.moaas_value.setCurrentIndex(1)  # 4 — lethargic response
    window.entries.add_moaas()
    cadss = window.entries.scale_boxes["cadss6"]
    for name, value in zip(cadss.inputs, (1, 2, 1, 0, 1, 0), strict=True):
        cadss.inputs[name].setValue(value)  # type: ignore[union-attr]
    window.entries.add_item_scale(cadss)
    clock.advance(minutes=25)  # 15:25: no BP since 14:40, due every 15 min
    window.reload()
    tick(window)
    shots.save(window, "nurse-session-screen.png")
    shots.save(window.vitals_view, "nurse-vitals-alert.png")
    shots.save(window, "nurse-bp-overdue.png", above(window.header, window))
    type_vitals(window, {"sbp_mmhg": "142", "dbp_mmhg": "86", "hr_bpm": "80",
                         "spo2_pct": "98", "rr_per_min": "14"})
    window.entry.record()
    window.dosing.reason.setText("patient to bathroom")
    window.dosing.submit(DoseKind.PAUSE)
    clock.advance(minutes=6)
    window.dosing.submit(DoseKind.RESUME)
    tick(window)
    shots.save(window.dosing, "nurse-dosing-panel.png")

    clock.advance(minutes=45)  # 16:16 the infusion ends
    window.dosing.submit(DoseKind.STOP)
    for minutes in (0, 15):
        clock.advance(minutes=minutes)
        type_vitals(window, {"sbp_mmhg": "128", "dbp_mmhg": "80", "hr_bpm": "72",
                             "spo2_pct": "98", "rr_per_min": "14"})
        window.entry.record()
    clock.advance(minutes=10)  # 16:41
    window.entries.setCurrentIndex(2)
    window.entries.nrs_value.setValue(3)
    window.entries.add_nrs()  # phase follows the infusion: "post"
    aldrete = window.entries.scale_boxes["aldrete"]
    for combo in aldrete.inputs.values():
        combo.setCurrentIndex(0)  # type: ignore[union-attr]
    shots.save(aldrete, "nurse-aldrete.png")
    window.entries.add_item_scale(aldrete)
    padss = window.entries.scale_boxes["padss"]
    for name, combo in padss.inputs.items():
        combo.setCurrentIndex(1 if name == "pain" else 0)  # type: ignore[union-attr]
    window.entries.add_item_scale(padss)
    shots.save(window.entries, "nurse-scores.png")
    window.entries.setCurrentIndex(3)
    window.entries.note_text.setPlainText("Tolerated well. Mild nausea settled after "
                                          "ondansetron. Husband drives her home.")
    window.entries.add_note()
    window.entries.setCurrentIndex(1)
    window.entries.se_table.selectRow(1)
    window.entries.resolve_selected()
    window.entries.se_table.selectRow(0)
    window.entries.resolve_selected()

    done = CompleteDialog(window)
    done.escort.setText("Peter Achterberg (husband)")
    shots.save(done, "nurse-complete.png")
    window.complete(done.escort.text(), done.instructions.toPlainText())
    done.close()
    window.close()
    main.close()
    return session_id


def provider_review(shots: Shots, clock: FixedClock, provider: Context, password: str,
                    session_id: int, db: Path) -> None:
    clock.advance(minutes=20)  # 17:01
    main = MainWindow(provider, db)
    main.resize(*SIZE)
    main.tabs.setCurrentIndex(1)
    main.awaiting_view.selectRow(0)
    shots.save(main, "provider-awaiting.png")
    window = SessionWindow(provider, session_id)
    window.resize(*SIZE)
    tick(window)
    shots.save(window, "provider-review.png")

    def sign(dialog: QDialog) -> None:
        assert isinstance(dialog, SignDialog)
        dialog.password.setText(password)
        dialog.accept()

    shots.modal("provider-sign.png", sign, window.sign_button.click)
    assert window.record.session.status.value == "signed", window.message.text()
    clock.advance(minutes=30)
    addendum = AddendumDialog(window)
    addendum.reason.setText("correction of the escort's name")
    addendum.text.setPlainText("Escort was her son, Tom Achterberg, not her husband.")
    shots.save(addendum, "provider-addendum.png")
    window.add_addendum(addendum.reason.text(), addendum.text.toPlainText())
    addendum.close()
    tabs = window.findChild(QWidget, "lowerTabs")
    tabs.setCurrentWidget(window.signoff)  # type: ignore[attr-defined]
    tick(window)
    shots.save(window, "provider-signed.png")
    window.close()
    main.close()


def course_pictures(shots: Shots, clock: FixedClock, store: Store, nurse: Context,
                    provider: Context) -> None:
    """The follow-up call and the course PDF's range on a demo patient with calls due."""
    clock.set(NOW)
    best, best_due = None, 0
    for row in store.rows("patients"):
        course = CourseWindow(nurse, int(row["id"]))  # type: ignore[call-overload]
        due = course.slots.rowCount()
        course.deleteLater()
        if due > best_due and row["indication"] != "depression":
            best, best_due = int(row["id"]), due  # type: ignore[call-overload]
    assert best is not None, "no demo patient has a follow-up call due"
    course = CourseWindow(nurse, best)
    course.resize(*SIZE)
    course.slot_view.selectRow(0)
    shots.save(course, "nurse-course-followups.png")

    def fill(dialog: QDialog) -> bool:
        assert isinstance(dialog, FollowUpDialog)
        dialog.nrs.setValue(4)
        dialog.relief.setValue(60)
        dialog.note.setText("sleeping better; pain back slowly since yesterday")
        shots.save(dialog, "nurse-follow-up.png")
        dialog.reject()
        return False

    course.open_dialog = fill  # type: ignore[method-assign]
    course.record_selected()
    course.close()
    span = CourseRangeDialog(get_patient(provider, best), NOW.date())
    shots.save(span, "provider-course-range.png")
    span.close()


def admin_pictures(shots: Shots, clock: FixedClock, store: Store, admin: Context,
                   db: Path) -> None:
    clock.set(NOW)
    main = MainWindow(admin, db)
    main.resize(*SIZE)
    shots.menu(main, main.menus["admin"], "admin-menu.png")
    settings = ClinicSettingsDialog(admin, main)
    shots.save(settings, "admin-clinic-settings.png")
    settings.close()
    alerts = AlertThresholdsDialog(admin, main)
    shots.save(alerts, "admin-alert-thresholds.png")
    alerts.close()
    protocols = ProtocolsDialog(admin, main)
    shots.save(protocols, "admin-protocols.png")
    protocols.close()
    feed = FeedSettingsDialog(admin, db, parent=main)
    shots.save(feed, "admin-monitor-feed.png")
    feed.close()
    folder = backup_dir(db)
    for hours in (-50, -26, -2, 0):  # a few backups to restore from
        clock.set(NOW + timedelta(hours=hours))
        run_backup(admin, db, folder, "manual")
    clock.set(NOW)
    backup = BackupSettingsDialog(admin, folder, main)
    backup.resize(640, backup.sizeHint().height())
    shots.save(backup, "admin-backup-settings.png")
    backup.close()
    restore = RestoreDialog(admin, folder, db, main)
    restore.list.setCurrentRow(1)
    shots.save(restore, "admin-restore-preview.png")
    restore.close()
    main.close()


def first_run(shots: Shots, clock: FixedClock) -> None:
    empty = open_store(WORK / "new-clinic.sqlite", clock)
    dialog = FirstRunDialog(empty, clock)
    dialog.clinic.setText("Riverside Ketamine Clinic")
    dialog.username.setText("alice")
    dialog.display_name.setText("Alice Moreno")
    dialog.password.setText("a long password")
    dialog.repeat.setText("a long password")
    shots.save(dialog, "admin-first-run.png")
    dialog.close()
    empty.close()


def main() -> int:
    faulthandler.dump_traceback_later(300, exit=True)  # a dialog nobody answers: say where
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    OUT.mkdir(parents=True, exist_ok=True)
    shots = Shots(app)
    try:
        clock = FixedClock(NOW)
        db = WORK / "ketalog.sqlite"
        store = open_store(db, clock)
        report = create_demo(store, clock)
        nurse = login(store, clock, "nurse", report.passwords["nurse"])
        provider = login(store, clock, "provider", report.passwords["provider"])
        admin = login(store, clock, "admin", report.passwords["admin"])
        session_id = nurse_walkthrough(shots, clock, store, nurse, db)
        provider_review(shots, clock, provider, report.passwords["provider"], session_id, db)
        course_pictures(shots, clock, store, nurse, provider)
        admin_pictures(shots, clock, store, admin, db)
        first_run(shots, clock)
        store.close()
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
    print(f"{len(shots.written)} guide screenshots in {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

