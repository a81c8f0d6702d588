"""The main window: patients on the left (instant search by name, MRN or date of
birth); on the right, today's sessions by chair, the sessions awaiting a signature and
the selected patient's sessions; the user and database in the status bar."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from datetime import date
from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QHideEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ketalog import __version__
from ketalog.domain.entities import Role
from ketalog.services.alarms import sessions_with_pending_alarms
from ketalog.services.allergies import allergy_texts
from ketalog.services.context import Context
from ketalog.services.documents import course_document
from ketalog.services.errors import ServiceError
from ketalog.services.patients import MAX_SEARCH_CHARS, search_patients
from ketalog.services.series import PlannedLine, planned_sessions
from ketalog.services.settings import clinic_name
from ketalog.services.summary import BoardRow, SessionLine, session_lines, today_board
from ketalog.services.views import view_patient
from ketalog.ui.course_export_dialog import CourseRangeDialog, suggested_name
from ketalog.ui.feed_runner import FeedRunner, feed_status_line
from ketalog.ui.patient_dialog import PatientDialog
from ketalog.ui.pdf_output import ask_pdf_path, ask_printer, export_document, print_document
from ketalog.ui.protocols_dialog import ProtocolsDialog
from ketalog.ui.table_models import (
    RowsModel,
    local_date,
    local_time,
    patient_model,
    rows_view,
)
from ketalog.ui.tasks import TaskRunner
from ketalog.ui.window_geometry import remember

STATUS_TEXT = {"draft": "arrived", "in_progress": "infusing", "completed": "completed",
               "signed": "signed"}


def board_model(alarm: Callable[[BoardRow], bool] = lambda b: False) -> RowsModel[BoardRow]:
    """`alarm` says which rows have an alarm nobody acknowledged yet (marked red)."""
    return RowsModel[BoardRow]([
        ("Chair", lambda b: b.chair or "-"),
        ("Patient", lambda b: b.patient),
        ("MRN", lambda b: b.mrn),
        ("Status", lambda b: b.state or STATUS_TEXT.get(b.status, b.status)),
        ("Started", lambda b: local_time(b.started_at)),
        ("Elapsed", lambda b: "" if b.elapsed_min is None
         else f"{b.elapsed_min // 60} h {b.elapsed_min % 60:02d} min"),
        ("Alarm", lambda b: "⚠ ALARM not acknowledged" if alarm(b) else ""),
    ], highlight=alarm)


def session_lines_model(with_patient: bool) -> RowsModel[SessionLine]:
    columns: list[tuple[str, Callable[[SessionLine], object]]] = [
        ("Date", lambda s: local_date(s.start) or "not started"),
        ("Start", lambda s: local_time(s.start)),
    ]
    if with_patient:
        columns += [("Patient", lambda s: s.patient), ("MRN", lambda s: s.mrn)]
    columns += [
        ("Series", lambda s: s.series),
        ("Status", lambda s: STATUS_TEXT.get(s.status, s.status)),
        ("Total mg", lambda s: f"{s.total_mg:.1f}"),
        ("mg/kg", lambda s: f"{s.mg_per_kg:.2f}"),
        ("NRS pre → post", lambda s: "" if s.nrs_pre is None and s.nrs_post is None
         else f"{'-' if s.nrs_pre is None else s.nrs_pre} → "
              f"{'-' if s.nrs_post is None else s.nrs_post}"),
    ]
    return RowsModel[SessionLine](columns)


PLANNED_DAYS = 14  # the Planned tab looks two weeks ahead (and back to anything overdue)


def planned_model() -> RowsModel[PlannedLine]:
    def day(line: PlannedLine) -> str:
        planned = line.progress.series.next_session_on
        late = line.progress.overdue_days
        return f"{planned} OVERDUE {late} d" if late else str(planned)

    return RowsModel[PlannedLine]([
        ("Planned", day), ("Patient", lambda x: x.patient_name), ("MRN", lambda x: x.mrn),
        ("DOB", lambda x: x.birth_date), ("Series", lambda x: x.progress.label()),
        ("Goal", lambda x: x.progress.series.goal)])


class MainWindow(QMainWindow):
    logout_requested = Signal()
    open_session_requested = Signal(int)
    start_session_requested = Signal(int)
    backup_requested = Signal()
    backup_settings_requested = Signal()
    restore_requested = Signal()

    def __init__(self, ctx: Context, db_path: Path | str, tasks: TaskRunner | None = None,
                 feed: FeedRunner | None = None) -> None:
        """`db_path`: the local file, or how a clinic server is named to the user (its
        address without a password)."""
        super().__init__()
        self.ctx, self.db_path = ctx, db_path
        self.tasks = tasks or TaskRunner(self)  # the app controller's, handed down
        self.feed = feed or FeedRunner()  # the app's one monitor feed (idle if never started)
        self.setObjectName("mainWindow")
        self.setWindowTitle(f"ketalog {__version__} — {clinic_name(ctx)}")
        self.search = QLineEdit()
        self.search.setObjectName("patientSearch")
        self.search.setPlaceholderText("Search by name, MRN or date of birth (YYYY-MM-DD)  —  Ctrl+F")
        self.search.setClearButtonEnabled(True)
        self.search.setMaxLength(MAX_SEARCH_CHARS)  # a pasted page is not a search
        self.allergy_texts: dict[int, str] = {}
        self.patients = patient_model(lambda p: self.allergy_texts.get(p.id or 0, p.allergies))
        self.patient_view = rows_view(self.patients, "patientTable", stretch_last=True, alternate=True)
        self.alarm_sessions: set[int] = set()
        self.board = board_model(lambda b: b.session_id in self.alarm_sessions)
        self.board_view = rows_view(self.board, "todayBoard", stretch_last=True, alternate=True)
        self.awaiting = session_lines_model(with_patient=True)
        self.awaiting_view = rows_view(self.awaiting, "awaitingSignature", stretch_last=True, alternate=True)
        self.history = session_lines_model(with_patient=False)
        self.history_view = rows_view(self.history, "patientSessions", stretch_last=True, alternate=True)
        self.planned = planned_model()
        self.planned_view = rows_view(self.planned, "plannedSessions", stretch_last=True, alternate=True)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("sessionTabs")
        self._build_layout()
        self._build_menus()
        self.search.textChanged.connect(self.refresh_patients)
        self.patient_view.activated.connect(lambda _i: self.edit_patient())  # Enter/double-click
        self.board_view.activated.connect(self._open_board_row)
        self.awaiting_view.activated.connect(
            lambda i: self.open_session_requested.emit(self.awaiting.row_at(i.row()).session_id))
        self.history_view.activated.connect(
            lambda i: self.open_session_requested.emit(self.history.row_at(i.row()).session_id))
        self.planned_view.activated.connect(lambda i: self.open_planned(i.row()))
        self.patient_view.selectionModel().selectionChanged.connect(
            lambda *_: self.refresh_history())
        self.refresh_patients()  # selecting the first patient fills their history
        self._refresh_lists()
        self.board_timer = QTimer(self)  # runs only while the window is shown
        self.board_timer.setInterval(30_000)
        self.board_timer.timeout.connect(self.refresh_board)
        user = ctx.user
        roles = ", ".join(sorted(r.value for r in ctx.roles))
        self.statusBar().showMessage(f"{user.signed_name} ({roles})  ·  {db_path}")
        self.feed_label = QLabel()
        self.feed_label.setObjectName("feedStatus")
        self.statusBar().addPermanentWidget(self.feed_label)
        self._show_feed_status()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)
        self.board_timer.start()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 (Qt API)
        """A hidden (logged-out or closed) window must not keep reading the store; its
        size and place are kept for this workstation's next login."""
        self.board_timer.stop()
        remember(self, "main")
        super().hideEvent(event)

    def _build_layout(self) -> None:
        left = QGroupBox("Patients")
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(self.search)
        left_layout.addWidget(self.patient_view)
        hint = QLabel("Enter or double-click: edit · Ctrl+N: new patient · "
                      "Ctrl+Shift+S: start a session for the selected patient")
        hint.setStyleSheet("color: #555;")
        hint.setWordWrap(True)
        left_layout.addWidget(hint)
        right = QGroupBox("Sessions")
        right_layout = QVBoxLayout(right)
        self.tabs.addTab(self.board_view, "&Today")
        self.tabs.addTab(self.awaiting_view, "Awaiting si&gnature")
        self.tabs.addTab(self.history_view, "Selected &patient")
        self.tabs.addTab(self.planned_view, "P&lanned")
        right_layout.addWidget(self.tabs)
        open_hint = QLabel("Enter or double-click a session to open it · Ctrl+O: open the "
                           "selected session")
        open_hint.setStyleSheet("color: #555;")
        open_hint.setWordWrap(True)
        right_layout.addWidget(open_hint)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([620, 560])
        central = QWidget()
        outer = QVBoxLayout(central)
        self.banner = self._banner()
        outer.addWidget(self.banner)
        self.integrity_banner = QLabel()  # set by the integrity check (ui/integrity_watch)
        self.integrity_banner.setObjectName("integrityBanner")
        self.integrity_banner.setWordWrap(True)
        self.integrity_banner.setStyleSheet("background: #b00020; color: white; "
                                            "font-weight: bold; padding: 6px;")
        self.integrity_banner.hide()
        outer.addWidget(self.integrity_banner)
        layout = QHBoxLayout()
        layout.addWidget(splitter)
        outer.addLayout(layout, 1)
        self.setCentralWidget(central)

    def _banner(self) -> QLabel:
        """Red under emergency access (all the time, on every screen of this window);
        amber for admins while emergency accesses await their review."""
        banner = QLabel()
        banner.setObjectName("accessBanner")
        banner.setWordWrap(True)
        banner.hide()
        grant = self.ctx.emergency
        if grant is not None:
            banner.setText(f"EMERGENCY ACCESS #{grant.id} — {self.ctx.user.username} — ends "
                           f"{grant.expires_at.astimezone():%H:%M}. Every entry is marked and "
                           f"will be reviewed by an admin. Reason: {grant.reason}")
            banner.setStyleSheet("background: #b00020; color: white; font-weight: bold; "
                                 "padding: 8px; font-size: 11pt;")
            banner.show()
        elif Role.ADMIN in self.ctx.roles:
            from ketalog.services.emergency import pending_reviews

            pending = len(pending_reviews(self.ctx))
            if pending:
                banner.setText(f"{pending} emergency access{'es' if pending > 1 else ''} "
                               "await your review: Admin > Audit log (Ctrl+Shift+A).")
                banner.setStyleSheet("background: #ffe08a; color: #3d2b00; padding: 6px; "
                                     "font-weight: bold;")
                banner.show()
        return banner

    def _action(self, menu_name: str, text: str, shortcut: str | QKeySequence.StandardKey,
                slot: Callable[[], object], name: str) -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False: slot())  # never pass `checked` on
        self.menus[menu_name].addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        titles = [("file", "&File"), ("patient", "&Patient")]
        if Role.ADMIN in self.ctx.roles:  # the services check again: this only tidies
            titles.append(("admin", "&Admin"))
        titles.append(("stock", "&Stock"))  # counts for everyone; the board for some
        self.menus = {name: bar.addMenu(title) for name, title in [*titles, ("help", "&Help")]}
        self._action("file", "&Log out", "Ctrl+L", self.logout_requested.emit, "actionLogout")
        self._action("file", "Change my &password...", "", self.change_password,
                     "actionChangePassword")
        self._action("file", "&Quit", QKeySequence.StandardKey.Quit, self.close, "actionQuit")
        self._action("patient", "&New patient...", QKeySequence.StandardKey.New,
                     self.new_patient, "actionNewPatient")
        self._action("patient", "&Edit patient...", "Ctrl+E", self.edit_patient,
                     "actionEditPatient")
        self._action("patient", "&Start session...", "Ctrl+Shift+S", self._start_session,
                     "actionStartSession")
        self._action("patient", "&Open session", QKeySequence.StandardKey.Open,
                     self.open_selected_session, "actionOpenSession")
        self._action("patient", "Co&urse view...", "Ctrl+Shift+C", self.open_course,
                     "actionCourseView")
        self._action("patient", "Export &course PDF...", "Ctrl+Shift+E",
                     lambda: self.export_course(), "actionExportCourse")
        self._action("patient", "P&rint course...", "Ctrl+Shift+R",
                     lambda: self.print_course(), "actionPrintCourse")
        self._action("patient", "Export F&HIR...", "", lambda: self.export_fhir(),
                     "actionExportFhir")
        self._action("patient", "Export CS&V...", "", lambda: self.export_csv(),
                     "actionExportCsv")
        self._action("patient", "&Find patient", QKeySequence.StandardKey.Find,
                     self.search.setFocus, "actionFind")
        self._action("patient", "Monitor &quarantine...", "", self.monitor_quarantine,
                     "actionMonitorQuarantine")
        if "admin" in self.menus:
            self._action("admin", "&Users...", "Ctrl+Shift+U", self.manage_users, "actionUsers")
            self._action("admin", "Audit &log...", "Ctrl+Shift+A", self.audit_log,
                         "actionAuditLog")
            self.menus["admin"].addSeparator()
            self._action("admin", "&Protocols...", "Ctrl+Shift+P", self.manage_protocols,
                         "actionProtocols")
            self._action("admin", "&Clinic settings...", "", self.clinic_settings,
                         "actionClinicSettings")
            self._action("admin", "&Alert thresholds...", "", self.alert_thresholds,
                         "actionAlertThresholds")
            self._action("admin", "Adjunct &formulary...", "", self.edit_formulary,
                         "actionFormulary")
            self._action("admin", "&Monitor feed (HL7)...", "", self.monitor_feed,
                         "actionMonitorFeed")
            self.menus["admin"].addSeparator()
            self._action("admin", "&Backup now", "Ctrl+Shift+B", self.backup_requested.emit,
                         "actionBackupNow")
            self._action("admin", "Backup &settings...", "", self.backup_settings_requested.emit,
                         "actionBackupSettings")
            self._action("admin", "&Restore from backup...", "", self.restore_requested.emit,
                         "actionRestore")
        if Role.ADMIN in self.ctx.roles or Role.PROVIDER in self.ctx.roles:
            self._action("stock", "&Controlled substances...", "Ctrl+Shift+K",
                         self.stock_board, "actionStockBoard")
        self._action("stock", "C&ount controlled substances...", "", self.stock_count,
                     "actionStockCount")
        self._action("help", "&About ketalog", "F1", self._about, "actionAbout")

    # -- behaviour ----------------------------------------------------------
    def refresh_patients(self) -> None:
        found = search_patients(self.ctx, self.search.text(), limit=500)
        self.allergy_texts = allergy_texts(self.ctx, found)
        self.patients.set_rows(found)
        if self.patients.rowCount():
            self.patient_view.selectRow(0)

    def refresh_board(self) -> None:
        """Today's board, the signature queue and the selected patient's history (all
        change while the window is open)."""
        self._refresh_lists()
        self.refresh_history()

    def _refresh_lists(self) -> None:
        now = self.ctx.clock.now()
        board = today_board(self.ctx, now)
        self.alarm_sessions = sessions_with_pending_alarms(  # patients still in the chair
            self.ctx, [b.session_id for b in board if b.status in ("draft", "in_progress")])
        self.board.set_rows(board)
        self.awaiting.set_rows(session_lines(self.ctx, now=now, statuses=("completed",)))
        self.tabs.setTabText(1, f"Awaiting si&gnature ({self.awaiting.rowCount()})")
        self.planned.set_rows(planned_sessions(self.ctx, PLANNED_DAYS))
        overdue = sum(1 for line in self.planned.rows() if line.progress.overdue_days)
        self.tabs.setTabText(3, f"P&lanned ({self.planned.rowCount()}"
                                f"{f', {overdue} overdue' if overdue else ''})")
        if hasattr(self, "feed_label"):
            self._show_feed_status()

    def _show_feed_status(self) -> None:
        self.feed_label.setText(feed_status_line(self.ctx.store, self.feed))

    def refresh_history(self) -> None:
        row = self.selected_patient_row()
        if row is None:
            self.history.set_rows([])
            self.tabs.setTabText(2, "Selected &patient")
            return
        patient = self.patients.row_at(row)
        self.history.set_rows(session_lines(self.ctx, patient.id, self.ctx.clock.now()))
        self.tabs.setTabText(2, f"{patient.family_name.upper()}, {patient.given_name} "
                                f"({self.history.rowCount()})")

    def open_selected_session(self) -> None:
        if self.tabs.currentWidget() is self.planned_view:
            rows = self.planned_view.selectionModel().selectedRows()
            if rows:
                self.open_planned(rows[0].row())
            return
        view, model = [(self.board_view, self.board), (self.awaiting_view, self.awaiting),
                       (self.history_view, self.history)][self.tabs.currentIndex()]
        rows = view.selectionModel().selectedRows()
        if not rows and model.rowCount() == 1:
            rows = [model.index(0, 0)]
        if not rows:
            QMessageBox.information(self, "Open session", "Select a session first.")
            return
        self.open_session_requested.emit(model.row_at(rows[0].row()).session_id)  # type: ignore[attr-defined]

    def selected_patient_row(self) -> int | None:
        rows = self.patient_view.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def new_patient(self) -> None:
        dialog = PatientDialog(self.ctx, parent=self)
        if dialog.exec() and dialog.result_patient:
            self.search.setText(dialog.result_patient.mrn)

    def edit_patient(self) -> None:
        row = self.selected_patient_row()
        if row is None:
            return
        patient = self.patients.row_at(row)
        if patient.id is not None:
            view_patient(self.ctx, patient.id)
        dialog = PatientDialog(self.ctx, patient, parent=self)
        if dialog.exec():
            self.refresh_patients()

    def _start_session(self) -> None:
        row = self.selected_patient_row()
        if row is None:
            QMessageBox.information(self, "Start session", "Select a patient first.")
            return
        self.start_session_requested.emit(self.patients.row_at(row).id)

    def _open_board_row(self, index: QModelIndex) -> None:
        self.open_session_requested.emit(self.board.row_at(index.row()).session_id)

    def export_course(self, path: Path | None = None,
                      since: date | None = None, until: date | None = None,
                      ask: bool = True) -> Future[bytes] | None:
        """The selected patient's course summary; the range is asked unless given."""
        row = self.selected_patient_row()
        if row is None:
            QMessageBox.information(self, "Export course PDF", "Select a patient first.")
            return None
        patient = self.patients.row_at(row)
        if ask:
            dialog = CourseRangeDialog(patient, self.ctx.clock.now().astimezone().date(), self)
            if not dialog.exec():
                return None
            since, until = dialog.range()
        path = path or ask_pdf_path(self, suggested_name(patient, since, until))
        if path is None:
            return None
        try:
            document = course_document(self.ctx, patient.id or 0, since, until)
        except ServiceError as exc:
            QMessageBox.warning(self, "Export course PDF", str(exc))
            return None
        return export_document(
            self, self.ctx, document, path,
            lambda out: self.statusBar().showMessage(f"Course PDF written to {out}", 15_000),
            lambda error: QMessageBox.warning(self, "Export course PDF", error))

    def print_course(self, printer: tuple[str, int] | None = None) -> Future[bytes] | None:
        """The selected patient's whole course, to the printer picked in the dialog."""
        row = self.selected_patient_row()
        if row is None:
            QMessageBox.information(self, "Print course", "Select a patient first.")
            return None
        chosen = printer or ask_printer(self)
        if chosen is None:
            return None
        try:
            document = course_document(self.ctx, self.patients.row_at(row).id or 0)
        except ServiceError as exc:
            QMessageBox.warning(self, "Print course", str(exc))
            return None
        return print_document(
            self, self.ctx, document, chosen,
            lambda answer: self.statusBar().showMessage(
                f"Course sent to {chosen[0] or 'the default printer'}: {answer}", 15_000),
            lambda error: QMessageBox.warning(self, "Print course", error))

    def open_planned(self, row: int) -> QWidget:
        """A planned session is about the patient's series: open their course view."""
        return self.open_course(self.planned.row_at(row).progress.series.patient_id)

    def export_fhir(self, path: Path | None = None) -> Path | None:
        """All of the selected patient's sessions as one FHIR R4 Bundle (audited)."""
        from ketalog.ui.interop_actions import export_fhir

        row = self.selected_patient_row()
        if row is None:
            QMessageBox.information(self, "Export FHIR", "Select a patient first.")
            return None
        return export_fhir(self, self.ctx, patient=self.patients.row_at(row), path=path)

    def export_csv(self, folder: Path | None = None) -> Path | None:
        """The selected patient's records as CSV files, one per kind (audited)."""
        from ketalog.ui.interop_actions import export_csv

        row = self.selected_patient_row()
        if row is None:
            QMessageBox.information(self, "Export CSV", "Select a patient first.")
            return None
        return export_csv(self, self.ctx, self.patients.row_at(row), folder)

    def open_course(self, patient_id: int | None = None) -> QWidget | None:
        from ketalog.ui.course_window import CourseWindow

        if patient_id is None:
            row = self.selected_patient_row()
            if row is None:
                QMessageBox.information(self, "Course view", "Select a patient first.")
                return None
            patient_id = self.patients.row_at(row).id or 0
        # Owned by the main window (closed with it), deleted when closed: no list to keep.
        window = CourseWindow(self.ctx, patient_id, parent=self)
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        window.show()
        return window

    def alert_thresholds(self) -> None:
        from ketalog.ui.alert_thresholds_dialog import AlertThresholdsDialog

        AlertThresholdsDialog(self.ctx, self).exec()

    def edit_formulary(self) -> QDialog:
        from ketalog.ui.formulary_dialog import FormularyDialog

        dialog = FormularyDialog(self.ctx, self)
        dialog.open()
        return dialog

    def clinic_settings(self) -> None:
        from ketalog.ui.clinic_settings_dialog import ClinicSettingsDialog

        if ClinicSettingsDialog(self.ctx, self).exec():
            self.setWindowTitle(f"ketalog {__version__} — {clinic_name(self.ctx)}")

    def monitor_quarantine(self) -> None:
        from ketalog.ui.quarantine_dialog import QuarantineDialog

        QuarantineDialog(self.ctx, self).exec()

    def monitor_feed(self) -> None:
        from ketalog.ui.device_feed_dialog import FeedSettingsDialog

        FeedSettingsDialog(self.ctx, self.db_path, self.feed, parent=self).exec()

    def change_password(self) -> None:
        from ketalog.ui.users_dialog import PasswordForm

        if PasswordForm(self.ctx, self.ctx.user.username, self).exec():
            self.statusBar().showMessage("Your password was changed.", 8000)

    def manage_users(self) -> None:
        from ketalog.ui.users_dialog import UsersDialog

        UsersDialog(self.ctx, self).exec()

    def audit_log(self) -> None:
        from ketalog.ui.audit_dialog import AuditDialog

        AuditDialog(self.ctx, self).exec()
        fresh = self._banner()  # a review may have cleared the reminder
        self.centralWidget().layout().replaceWidget(self.banner, fresh)
        self.banner.deleteLater()
        self.banner = fresh

    def manage_protocols(self) -> None:
        ProtocolsDialog(self.ctx, self).exec()

    def stock_board(self) -> QWidget:
        """The Controlled substances board; a session behind a discrepancy opens as any."""
        from ketalog.ui.stock_board import StockBoard

        board = StockBoard(self.ctx, self)
        board.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        board.open_session_requested.connect(self.open_session_requested.emit)
        board.show()
        return board

    def stock_count(self) -> bool:
        from ketalog.services import stock
        from ketalog.ui.stock_dialogs import CountDialog

        if not stock.locations(self.ctx):
            QMessageBox.information(self, "Count", "No controlled substance has been received.")
            return False
        return bool(CountDialog(self.ctx, stock.count_sheet(self.ctx), self).exec())

    def _about(self) -> None:
        QMessageBox.about(self, "About ketalog",
                          f"ketalog {__version__}\nInfusion-session logbook.\n"
                          f"Database: {self.db_path}")
