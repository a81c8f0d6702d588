"""The GUI's composition root: logging, an excepthook that shows a dialog instead of
dying silently, the store, QApplication, first run or login, the main window, session
windows, logout and idle auto-logoff."""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import shiboken6
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog, QWidget

from ketalog.domain.clock import Clock, SystemClock
from ketalog.domain.entities import Role
from ketalog.paths import backup_dir, log_dir, resource_path
from ketalog.services.backups import (
    backup_due,
    backup_folder,
    backup_target,
    finish_backup,
    restore_database,
)
from ketalog.services.context import Context
from ketalog.services.database import (
    BackupReport,
    Database,
    copy_for_backup,
    is_server_address,
    open_database_file,
    safe_location,
    worker_connection,
)
from ketalog.services.emergency import end_emergency
from ketalog.services.errors import DatabaseGone, ServiceError, StoreFailed
from ketalog.services.logoff import EMERGENCY_ENDED, IDLE, logoff_due, record_logoff
from ketalog.services.settings import auto_logoff_minutes, auto_logoff_minutes_before_login
from ketalog.services.system import needs_first_admin
from ketalog.ui.feed_runner import FeedRunner
from ketalog.ui.idle import IdleWatcher
from ketalog.ui.live_updates import LiveUpdates
from ketalog.ui.login import FirstRunDialog, LoginDialog
from ketalog.ui.main_window import MainWindow
from ketalog.ui.tasks import TaskRunner
from ketalog.ui.window_geometry import show_fitted

log = logging.getLogger("ketalog")
BACKUP_CHECK_MS = 10 * 60 * 1000  # is a scheduled backup due? (cheap: one folder listing)
ACCESS_CHECK_MS = 5_000  # idle minutes and emergency expiry, checked against the Clock
# What the file-only actions say on a clinic server (docs/server.md).
SERVER_BACKUPS = ("The clinic server's backups are made on the server with pg_dump (see "
                  "docs/server.md), not by the workstations.")
SERVER_RESTORE = ("A clinic server is restored on the server with pg_restore from its "
                  "pg_dump backup (see docs/server.md), not from a workstation.")


def _setup_logging() -> None:
    try:
        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        logging.basicConfig(filename=folder / "ketalog.log", level=logging.INFO,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    except OSError:
        logging.basicConfig(level=logging.INFO)


def _excepthook(kind: type[BaseException], value: BaseException,
                tb: TracebackType | None) -> None:
    log.error("unhandled error", exc_info=(kind, value, tb))
    text = "".join(traceback.format_exception(kind, value, tb))
    box = QMessageBox(QMessageBox.Icon.Critical, "ketalog: unexpected error",
                      "Something went wrong. Everything saved before this is safe in the "
                      "database. Please report this to your administrator.")
    box.setDetailedText(text)
    box.exec()


class GuiController:
    """Owns the windows of one running app; swaps them on login, logout and idle lock."""

    def __init__(self, store: Database, clock: Clock, db_path: Path | str) -> None:
        """`db_path`: the local file, or a clinic server's address; on a server the
        file-only work (backups beside the file, restoring one, the quick_check, the
        monitor feed a workstation runs for itself) is not done here."""
        self.on_server = is_server_address(db_path)
        self.store, self.clock = store, clock
        # How windows name the database: a server's address never with its password.
        self.where: Path | str = safe_location(str(db_path)) if self.on_server \
            else Path(db_path)
        self.db_path = Path(db_path) if not self.on_server else Path()
        self.ctx: Context | None = None
        self.main: MainWindow | None = None
        self.sessions: dict[int, QWidget] = {}
        self.locked_windows: list[QWidget] = []
        self.idle = IdleWatcher(auto_logoff_minutes_before_login(store), self.lock, clock=clock)
        self.last_ctx: Context | None = None  # who the closing backup is attributed to
        self._backing_up = False
        self.tasks = TaskRunner()  # background work of every window (ui/tasks.py)
        self.feed = FeedRunner(self.on_server)  # the monitor feed, one per running app
        self.live = LiveUpdates(lambda: self.main, lambda: self.sessions)  # other workstations
        self.backup_timer = QTimer()
        self.backup_timer.timeout.connect(lambda: self.backup("scheduled"))
        if not self.on_server:
            self.backup_timer.start(BACKUP_CHECK_MS)
        from ketalog.ui.integrity_watch import IntegrityWatch

        self.integrity_problems: list[str] = []
        self.integrity = IntegrityWatch(lambda: self.store, self._integrity_checked,
                                        self.tasks)
        self._integrity_started = self.on_server  # SQLite's quick_check: for a file only
        if self.on_server:
            self.integrity.timer.stop()

    # -- start-up -----------------------------------------------------------
    def authenticate(self, username: str = "") -> Context | None:
        if needs_first_admin(self.store):
            dialog: FirstRunDialog | LoginDialog = FirstRunDialog(self.store, self.clock)
        else:
            dialog = LoginDialog(self.store, self.clock, username=username)
        dialog.exec()
        return dialog.context

    def start(self) -> bool:
        ctx = self.authenticate()
        if ctx is None:
            return False
        self.open_main(ctx)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.idle)
        return True

    def open_main(self, ctx: Context) -> None:
        self.ctx = self.last_ctx = ctx
        self.main = MainWindow(ctx, self.where, self.tasks, self.feed)
        self.main.logout_requested.connect(self.logout)
        self.main.backup_requested.connect(lambda: self.backup("manual"))
        self.main.backup_settings_requested.connect(self.backup_settings)
        self.main.restore_requested.connect(self.ask_restore)
        self.main.open_session_requested.connect(self.open_session)
        self.main.start_session_requested.connect(self.start_session)
        show_fitted(self.main, "main")
        self.idle.set_minutes(auto_logoff_minutes(ctx))
        access_timer = QTimer(self.main)  # dies with the window it guards
        access_timer.setObjectName("accessTimer")
        access_timer.timeout.connect(self.check_access)
        access_timer.start(ACCESS_CHECK_MS)
        self.feed.start_if_enabled(self.db_path, ctx)  # the monitor feed, if the clinic uses one
        self.live.start(ctx)  # a clinic server's changes reach the open windows
        self._show_integrity()
        if not self._integrity_started:  # once the window shows; then daily (its timer)
            self._integrity_started = True
            QTimer.singleShot(0, self.integrity.start)

    def _integrity_checked(self, problems: list[str]) -> None:
        self.integrity_problems = problems
        self._show_integrity()

    def _show_integrity(self) -> None:
        from ketalog.ui.integrity_watch import banner_text

        if self.main is None or not shiboken6.isValid(self.main):
            return
        if self.integrity_problems:
            self.main.integrity_banner.setText(banner_text(self.integrity_problems))
            self.main.integrity_banner.show()
        else:
            self.main.integrity_banner.hide()

    # -- sessions -----------------------------------------------------------
    def open_session(self, session_id: int) -> None:
        from ketalog.ui.session_window import SessionWindow

        if session_id in self.sessions:
            window = self.sessions[session_id]
            window.show()
            window.raise_()
            window.activateWindow()
            return
        assert self.ctx is not None
        window = SessionWindow(self.ctx, session_id, tasks=self.tasks)
        window.closed.connect(self._session_closed)
        self.sessions[session_id] = window
        show_fitted(window, "session")
        window.entry.focus_first()

    def _session_closed(self, session_id: int) -> None:
        self.sessions.pop(session_id, None)
        if self.main:
            self.main.refresh_board()

    def start_session(self, patient_id: int) -> None:
        from ketalog.ui.start_session_dialog import StartSessionDialog

        assert self.ctx is not None
        dialog = StartSessionDialog(self.ctx, patient_id, parent=self.main)
        if dialog.exec() and dialog.session_id is not None:
            self.draw_from_stock(dialog.session_id)
            if self.main:
                self.main.refresh_board()
            self.open_session(dialog.session_id)

    def draw_from_stock(self, session_id: int) -> bool:
        """The bag step: draw the lots for the new session's bag (when stock is kept)."""
        from ketalog.services.sessions import read_session
        from ketalog.ui.stock_session_dialogs import after_session_start

        assert self.ctx is not None
        volume = read_session(self.ctx, session_id).bag.volume_ml
        return after_session_start(self.main, self.ctx, session_id, volume)

    # -- backups --------------------------------------------------------------
    def backup_folder(self) -> Path:
        return backup_folder(self.store, backup_dir(self.db_path))

    def backup(self, why: str, then: Callable[[bool], None] | None = None) -> bool:
        """"manual" (admin, with a progress dialog), "scheduled" (when due) or "on close".
        The copy and its check (minutes on a ten-year file) run on the task runner with a
        connection of their own, so windows keep painting and a nurse keeps recording
        (WAL: the copy's snapshot never blocks a writer); the audit entry and the rotation
        follow on the GUI thread. Returns whether a backup started; `then(written)` is
        called when it ends. A failure is shown and logged; it never stops the app or
        loses data."""
        ctx = self.ctx or self.last_ctx
        if self.on_server:
            log.info("backup (%s) not made here: %s", why, SERVER_BACKUPS)
            if why == "manual":
                QMessageBox.information(self.main, "Backup", SERVER_BACKUPS)
            return False
        if ctx is None or self.locked_windows or self._backing_up:
            return False  # one at a time: the timer can fire while a copy runs
        try:
            folder = self.backup_folder()
            if why == "scheduled" and not backup_due(ctx, folder, self.db_path):
                return False
            target = backup_target(ctx, self.db_path, folder, why)
            worker = worker_connection(self.store)
        except DatabaseGone as exc:  # a timer outlived its closed database
            log.warning("backup (%s) skipped: %s", why, exc)
            return False
        except (ServiceError, OSError) as exc:
            self._backup_failed(why, self._folder_for_message(), exc)
            return False
        self._backing_up = True
        progress = QProgressDialog("Backing up and verifying...", "", 0, 100, self.main)
        progress.setObjectName("backupProgress")
        progress.setCancelButton(None)
        progress.setMinimumDuration(500 if why != "manual" else 0)
        weights = {"copy": (0, 45), "count": (45, 5), "check copy": (50, 50)}

        def shown(phase: str, done: int, total: int) -> None:
            if not shiboken6.isValid(progress):  # its window closed (a logout) meanwhile
                return
            base, span = weights.get(phase, (0, 100))
            progress.setLabelText("Checking the copy..." if base >= 50 else
                                  "Backing up and verifying...")
            progress.setValue(base + span * done // max(total, 1))

        phases = self.tasks.progress(shown)

        def copy() -> BackupReport:
            return copy_for_backup(worker, target, phases)

        def ended(written: bool) -> None:
            if shiboken6.isValid(progress):
                progress.close()
                progress.deleteLater()
            self._backing_up = False
            if then is not None:
                then(written)

        def copied(report: BackupReport) -> None:
            try:
                removed = finish_backup(ctx, self.db_path, folder, why, report)
            except (ServiceError, OSError) as exc:
                failed(exc)
                return
            log.info("backup (%s) written: %s; rotated out %d", why, report.path, len(removed))
            if self.main is not None and shiboken6.isValid(self.main):
                self.main.statusBar().showMessage(
                    f"Backup written and verified: {report.path} "
                    f"({report.size_bytes / 1e6:.1f} MB)", 15_000)
            ended(True)

        def failed(exc: BaseException) -> None:
            if shiboken6.isValid(progress):
                progress.close()
            self._backup_failed(why, folder, exc)
            ended(False)

        self.tasks.run(copy, copied, failed)
        return True

    def _folder_for_message(self) -> Path:
        try:
            return self.backup_folder()
        except ServiceError:
            return backup_dir(self.db_path)

    def _backup_failed(self, why: str, folder: Path, exc: BaseException) -> None:
        log.error("backup (%s) failed: %s", why, exc)
        QMessageBox.warning(self.main, "Backup failed",
                            f"The {why} backup to {folder} failed: {exc}\n\nThe "
                            "database itself is unaffected. Check the backup folder "
                            "(Admin > Backup settings).")

    def backup_settings(self) -> None:
        from ketalog.ui.backup_dialogs import BackupSettingsDialog

        if self.on_server:
            QMessageBox.information(self.main, "Backup settings", SERVER_BACKUPS)
            return
        if self.ctx is not None:
            BackupSettingsDialog(self.ctx, backup_dir(self.db_path), self.main).exec()

    def ask_restore(self) -> None:
        from ketalog.ui.backup_dialogs import RestoreDialog

        if self.ctx is None:
            return
        if self.on_server:
            QMessageBox.information(self.main, "Restore", SERVER_RESTORE)
            return
        try:
            self.ctx.require(Role.ADMIN, action="restore the database")
        except ServiceError as exc:
            QMessageBox.warning(self.main, "Restore", str(exc))
            return
        if self._backing_up:  # its copy reads the file a restore would replace
            QMessageBox.information(self.main, "Restore", "A backup is being written. "
                                    "Restore when it has finished (the status bar says so).")
            return
        dialog = RestoreDialog(self.ctx, self.backup_folder(), self.db_path, self.main)
        if dialog.exec() and dialog.chosen is not None:
            self.restore(dialog.chosen)

    def restore(self, source: Path) -> bool:
        """Close every window and the database, restore (the replaced file is kept aside),
        reopen, record who did it, and ask for a login on the restored data."""
        assert self.ctx is not None
        if self.on_server:
            QMessageBox.information(self.main, "Restore", SERVER_RESTORE)
            return False
        admin, passphrase = self.ctx.actor, self.store.passphrase
        self._close_all()
        self.ctx = self.last_ctx = None
        self.feed.stop()  # its connection must not outlive the file being replaced
        self.store.close()
        try:
            report, self.store = restore_database(source, self.db_path, self.clock,
                                                  admin.username, passphrase=passphrase,
                                                  admin_id=admin.user_id)
            message = (f"Restored from {source.name}. The replaced database is kept at "
                       f"{report.replaced_copy}." if report.replaced_copy else
                       f"Restored from {source.name}.")
        except StoreFailed as exc:
            report, message = None, f"The restore failed and nothing was replaced: {exc}"
            self.store = open_database_file(self.db_path, self.clock, passphrase=passphrase)
        QMessageBox.information(None, "Restore", message)
        ctx = self.authenticate()
        if ctx is None:
            QApplication.quit()
            return report is not None
        self.open_main(ctx)
        return report is not None

    def shutdown(self) -> None:
        """On close: a verified backup, attributed to the last user."""
        self.backup_timer.stop()
        self.integrity.timer.stop()
        if self.ctx is not None:
            end_emergency(self.ctx, "ketalog closed")
        self.feed.stop()
        self.live.stop()
        closing = QEventLoop()  # the app's loop has ended: this one runs while the copy does
        if self.backup("on close", then=lambda _written: closing.quit()):
            closing.exec()
        self.tasks.shutdown()

    # -- logout and idle lock -----------------------------------------------
    def _close_all(self) -> None:
        self.live.stop()
        for window in list(self.sessions.values()):
            window.hide()
            window.deleteLater()
        self.sessions.clear()
        if self.main:
            self.main.board_timer.stop()
            self.main.hide()
            self.main.deleteLater()
            self.main = None

    def check_access(self) -> str | None:
        """Every few seconds: log off when idle too long or when emergency access ran out
        (services.logoff decides, against the Clock)."""
        if self.ctx is None or self.locked_windows or self.main is None \
                or not self.main.isVisible():  # logged out, locked, or closed
            return None
        why = logoff_due(self.ctx, self.idle.last_input)
        if why == IDLE:
            self.lock()
        elif why == EMERGENCY_ENDED:
            self.emergency_ended()
        return why

    def emergency_ended(self) -> None:
        """The grant ran out: close its windows (they hold its context), say so, log in."""
        assert self.ctx is not None
        ctx = self.ctx
        record_logoff(ctx, EMERGENCY_ENDED)
        self._close_all()
        self.ctx = None
        self.notify("Emergency access ended",
                    f"Emergency access #{ctx.emergency.id if ctx.emergency else ''} ended "
                    "after its time limit. Everything recorded was saved. Log in normally, "
                    "or start emergency access again if the emergency continues.")
        self.relogin()

    def notify(self, title: str, text: str) -> None:
        QMessageBox.information(None, title, text)

    def relogin(self) -> None:
        ctx = self.authenticate()
        if ctx is None:
            QApplication.quit()
            return
        self.open_main(ctx)

    def logout(self) -> None:
        if self.ctx is not None:
            end_emergency(self.ctx, "logged out")
        self._close_all()
        self.ctx = None
        ctx = self.authenticate()
        if ctx is None:
            QApplication.quit()
            return
        self.open_main(ctx)

    def lock(self) -> None:
        """Idle: hide every window (nothing is closed, so nothing typed is lost) and ask
        for a login. The same user gets the windows back; another user starts fresh."""
        if self.ctx is None or self.locked_windows or (
                self.main is not None and not shiboken6.isValid(self.main)):
            return  # (a timer that outlived its windows)
        self.idle.pause()
        previous = self.ctx
        self.locked_windows = [w for w in [self.main, *self.sessions.values()]
                               if w is not None and shiboken6.isValid(w) and w.isVisible()]
        for window in self.locked_windows:
            window.hide()
        record_logoff(previous, IDLE)  # ends an emergency grant too
        ctx = self.authenticate(previous.user.username)
        windows, self.locked_windows = self.locked_windows, []
        self.idle.resume()
        if ctx is None:
            QApplication.quit()
            return
        # Windows opened under emergency access hold its (now ended) context: start fresh.
        if ctx.user.id == previous.user.id and previous.emergency is None \
                and ctx.emergency is None:
            self.ctx = ctx
            for window in windows:
                window.show()
            self.live.catch_up()
            return
        self._close_all()
        self.open_main(ctx)


def run_gui(db_path: Path | str, smoke: bool = False, clock: Clock | None = None,
            ask_where: bool = False) -> int:
    """The app on `db_path`: the local file, or a clinic server's postgresql:// address;
    `ask_where`: the first start, which asks where the records live (and remembers it)."""
    _setup_logging()
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("ketalog")
    app.setWindowIcon(QIcon(str(resource_path("icons", "ketalog.png"))))  # Linux ignores the exe's
    if not smoke:
        sys.excepthook = _excepthook
    from ketalog.ui.startup import open_database

    if ask_where and not smoke:
        from ketalog.ui.database_choice import ask_where as ask

        chosen = ask(clock or SystemClock())
        if chosen is None:
            return 0
        db_path = chosen
    if smoke:  # nobody is there to answer a passphrase prompt or the recovery dialog
        from ketalog.ui.smoke import open_for_smoke

        store = open_for_smoke(db_path, clock or SystemClock())
    else:
        store = open_database(db_path, clock or SystemClock())
    if store is None:
        return 2
    controller = GuiController(store, clock or SystemClock(), db_path)
    if smoke:  # one window shown, then quit (ui/smoke.py; `make dist` runs it frozen)
        from ketalog.ui.smoke import run_smoke

        controller.backup_timer.stop()
        code = run_smoke(app, controller)
        controller._close_all()
        store.close()
        return code
    if not controller.start():
        controller.store.close()
        return 0
    code = app.exec()
    controller.shutdown()
    controller.store.close()
    return code
