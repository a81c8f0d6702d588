"""The nurse's session screen: everything about one infusion in one window, saved the
moment it is entered. After signing it is read-only and offers only addenda."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime, timedelta
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ketalog.domain.entities import Role, SessionStatus, VitalsReading
from ketalog.domain.errors import PlausibilityError
from ketalog.services import sessions as svc
from ketalog.services.context import Context
from ketalog.services.device_vitals import device_times, vitals_since
from ketalog.services.documents import Document, session_document
from ketalog.services.errors import AccountLocked, LoginFailed, ServiceError
from ketalog.services.record import SessionRecord, load_record
from ketalog.services.settings import alert_thresholds, monitoring_interval_min
from ketalog.services.views import view_session
from ketalog.services.vitals_series import VitalsColumns, load_vitals, load_vitals_columns
from ketalog.ui.alarm_banner import AlarmBanner, set_sound_enabled, sound_enabled
from ketalog.ui.complete_dialog import CompleteDialog
from ketalog.ui.dosing_panel import DosingPanel
from ketalog.ui.entries_panel import EntriesPanel
from ketalog.ui.pdf_output import ask_pdf_path, ask_printer, export_document, print_document
from ketalog.ui.session_chart import ChartMarker, SessionChart
from ketalog.ui.session_header import SessionHeader
from ketalog.ui.tasks import TaskRunner, tasks_of
from ketalog.ui.vitals_entry import VitalsEntry
from ketalog.ui.vitals_model import COLUMNS as VITALS_COLUMNS
from ketalog.ui.vitals_model import VitalsTableModel
from ketalog.ui.window_geometry import remember

DEVICE_POLL_MS = 2000

USER_ERRORS = (PlausibilityError, ServiceError)


def chart_markers(record: SessionRecord) -> list[ChartMarker]:
    """Entries entered in error are not plotted (the lists show them struck)."""
    markers = [ChartMarker(e.at, f"bolus {e.bolus_mg:.0f} mg", "bolus")
               for e in record.doses if e.kind == "bolus" and e.bolus_mg and not e.struck_reason]
    markers += [ChartMarker(a.at, f"{a.drug} {a.dose:g} {a.unit} {a.route}", "adjunct")
                for a in record.adjuncts if not a.struck_reason]
    markers += [ChartMarker(s.onset_at, f"{s.kind} ({s.severity.value})", "side_effect")
                for s in record.side_effects if not s.struck_reason]
    return markers


class AddendumDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add addendum")
        self.reason = QLineEdit()
        self.reason.setObjectName("addendumReason")
        self.reason.setPlaceholderText("why, e.g. correction of escort name")
        self.text = QPlainTextEdit()
        self.text.setObjectName("addendumText")
        form = QFormLayout(self)
        form.addRow("&Reason", self.reason)
        form.addRow("&Text", self.text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


class SessionWindow(QMainWindow):
    closed = Signal(int)

    def __init__(self, ctx: Context, session_id: int, parent: QWidget | None = None,
                 tasks: TaskRunner | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.session_id = ctx, session_id
        self.tasks = tasks or tasks_of(parent)  # the app controller's, handed down
        self.setObjectName("sessionWindow")
        self.record: SessionRecord = load_record(ctx, session_id, with_vitals=False)
        view_session(ctx, session_id)
        self.columns = VitalsColumns()
        self.header = SessionHeader()
        self.header.default_interval_min = monitoring_interval_min(ctx)
        self.banner = QLabel()
        self.banner.setObjectName("signedBanner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.entry = VitalsEntry(ctx, session_id)
        self.alarm_banner = AlarmBanner(ctx, session_id)
        self.chart = SessionChart()
        self.vitals_model = VitalsTableModel(newest_first=True)
        self.vitals_view = QTableView()
        self.vitals_view.setObjectName("vitalsTable")
        self.vitals_view.setModel(self.vitals_model)
        self.vitals_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.vitals_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.vitals_view.verticalHeader().hide()
        self.vitals_view.verticalHeader().setDefaultSectionSize(
            self.vitals_view.fontMetrics().height() + 8)
        self.vitals_view.setWordWrap(False)
        # Fixed widths: ResizeToContents would measure every row of a 1 Hz device series.
        metrics = self.vitals_view.fontMetrics()
        for column, (field, title) in enumerate(VITALS_COLUMNS):
            sample = {"at": "00:00:00", "source": "device:MON"}.get(field, "188 !")
            self.vitals_view.setColumnWidth(column, 16 + max(metrics.horizontalAdvance(title),
                                                             metrics.horizontalAdvance(sample)))
        self.vitals_view.horizontalHeader().setStretchLastSection(True)
        self.newest_first = QCheckBox("Newest first")
        self.newest_first.setObjectName("newestFirst")
        self.newest_first.setChecked(True)
        self.artifact_button = QPushButton("Mark &artifact...")
        self.artifact_button.setObjectName("markArtifact")
        self.dosing = DosingPanel(ctx, session_id)
        # the event list may shrink to a few lines: at 1366x768 its 70 px minimum left the
        # entry tabs (Scores) too short to use
        self.dosing.events.setMinimumHeight(36)
        self.entries = EntriesPanel(ctx, session_id, score_table_elsewhere=True)
        self.signoff = QListWidget()
        self.signoff.setObjectName("signoffList")
        self.complete_button = QPushButton("Co&mplete session...")
        self.complete_button.setObjectName("completeSession")
        self.sign_button = QPushButton("Sign as provider...")
        self.sign_button.setObjectName("signSession")
        self.reopen_button = QPushButton("Reopen...")
        self.reopen_button.setObjectName("reopenSession")
        self.addendum_button = QPushButton("Add addendum...")
        self.addendum_button.setObjectName("addAddendum")
        self.export_button = QPushButton("Export PDF...")
        self.export_button.setObjectName("exportPdf")
        self.export_button.setToolTip("Ctrl+Shift+E")
        self.print_button = QPushButton("Print...")
        self.print_button.setObjectName("printPdf")
        self.print_button.setToolTip("Ctrl+P")
        self.message = QLabel()
        self.message.setObjectName("sessionMessage")
        self.message.setStyleSheet("color: #b00020; font-weight: bold;")
        self._layout()
        self._connect()
        self._shortcuts()
        self._session_menu()
        self.clock_timer = QTimer(self)
        self.clock_timer.timeout.connect(lambda: self.header.tick(self.record, ctx.clock.now()))
        self.clock_timer.start(1000)
        self.chart_timer = QTimer(self)  # the rate strip and the followed window reach now
        self.chart_timer.timeout.connect(self.chart.tick)
        self.chart_timer.start(5000)
        self._poll_after = 0  # newest vitals id the device poll has seen
        self._shown_ids: set[int] = set()  # recorded here, not yet passed by the poll
        self.device_timer = QTimer(self)  # monitor-feed readings arrive in the database
        self.device_timer.timeout.connect(self.poll_device_vitals)
        self.device_timer.start(DEVICE_POLL_MS)
        self.reload()
        self.resize(1366, 740)

    # -- construction -------------------------------------------------------
    def _layout(self) -> None:
        table_tab = QWidget()
        table_layout = QVBoxLayout(table_tab)
        table_layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(self.newest_first)
        row.addStretch(1)
        row.addWidget(self.artifact_button)
        table_layout.addLayout(row)
        table_layout.addWidget(self.vitals_view)
        lower = QTabWidget()
        lower.setObjectName("lowerTabs")
        lower.addTab(table_tab, "&Vitals table")
        lower.addTab(self.entries.score_table, "Sc&ores recorded")
        lower.addTab(self.signoff, "Signatures && addenda")
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.chart)
        left.addWidget(lower)
        left.setSizes([330, 250])
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.dosing)
        right.addWidget(self.entries)
        right.setSizes([330, 260])
        right.setStretchFactor(0, 0)  # a taller screen gives its height to the entry tabs
        right.setStretchFactor(1, 1)
        # the vitals row sits above the chart, not across the window: the right column
        # (dosing, then the entry tabs) gets its height, which Scores needs at 768 px
        left_column = QWidget()
        left_layout = QVBoxLayout(left_column)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.entry)
        left_layout.addWidget(left, 1)
        body = QSplitter(Qt.Orientation.Horizontal)
        body.addWidget(left_column)
        body.addWidget(right)
        body.setSizes([860, 500])
        actions = QHBoxLayout()
        actions.addWidget(self.message, 1)
        for b in (self.export_button, self.print_button, self.complete_button,
                  self.sign_button, self.reopen_button, self.addendum_button):
            actions.addWidget(b)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.header)
        layout.addWidget(self.banner)
        layout.addWidget(self.alarm_banner)
        layout.addWidget(body, 1)
        layout.addLayout(actions)
        self.setCentralWidget(central)

    def _connect(self) -> None:
        self.entry.recorded.connect(self.on_vitals_recorded)
        self.dosing.recorded.connect(self.reload_without_vitals)
        self.entries.changed.connect(self.reload_without_vitals)
        self.newest_first.toggled.connect(self.vitals_model.set_newest_first)
        self.artifact_button.clicked.connect(self._ask_artifact)
        self.complete_button.clicked.connect(self._ask_complete)
        self.sign_button.clicked.connect(self._ask_sign)
        self.reopen_button.clicked.connect(self._ask_reopen)
        self.addendum_button.clicked.connect(self._ask_addendum)
        self.export_button.clicked.connect(lambda: self.export_pdf())
        self.print_button.clicked.connect(lambda: self.print_pdf())

    def _shortcuts(self) -> None:
        # Slots are plain Python callables returning None: connecting Qt methods that
        # return bool (close) or take overloaded arguments (setFocus) to triggered(bool)
        # is fragile in PySide.
        def focus_rate() -> None:
            self.dosing.rate.setFocus()

        def close_window() -> None:
            self.close()

        def entry_tab(index: int, widget: QWidget) -> Callable[[], None]:
            def go() -> None:
                self.entries.setCurrentIndex(index)
                widget.setFocus(Qt.FocusReason.TabFocusReason)
                if isinstance(widget, QAbstractSpinBox):
                    widget.selectAll()  # typing replaces the "—" of an empty score
            return go

        for keys, slot, name in (
            ("Ctrl+R", self.chart.reset_view, "actionResetChart"),
            ("F5", self.reload, "actionReload"),
            ("Ctrl+W", close_window, "actionCloseSession"),
            ("Alt+1", self.entry.focus_first, "actionFocusVitals"),
            ("Alt+2", focus_rate, "actionFocusDosing"),
            ("Alt+3", entry_tab(0, self.entries.drug), "actionFocusMedications"),
            ("Alt+4", entry_tab(2, self.entries.nrs_value), "actionFocusScores"),
            ("Alt+5", entry_tab(3, self.entries.note_text), "actionFocusNotes"),
            ("Ctrl+Shift+E", lambda: self.export_pdf(), "actionExportPdf"),
            ("Ctrl+P", lambda: self.print_pdf(), "actionPrintPdf"),
        ):
            action = QAction(self)
            action.setObjectName(name)
            action.setShortcut(QKeySequence(keys))
            action.triggered.connect(slot)
            self.addAction(action)

    def _session_menu(self) -> None:
        menu = self.menuBar().addMenu("Sessio&n")  # Alt+S is the dosing panel's Start
        self.import_action = QAction("&Import vitals from CSV...", self)
        self.import_action.setObjectName("actionImportVitals")
        self.import_action.triggered.connect(lambda: self.import_vitals())
        menu.addAction(self.import_action)
        self.sound_action = QAction("Alarm &sound on this workstation", self)
        self.sound_action.setObjectName("actionAlarmSound")
        self.sound_action.setCheckable(True)
        self.sound_action.setChecked(sound_enabled())
        self.sound_action.toggled.connect(set_sound_enabled)
        menu.addAction(self.sound_action)
        fhir = QAction("Export &FHIR...", self)
        fhir.setObjectName("actionExportSessionFhir")
        fhir.triggered.connect(lambda: self.export_fhir())
        menu.addAction(fhir)
        draw = QAction("&Draw ketamine from stock...", self)  # the bag step, if skipped
        draw.setObjectName("actionDrawFromStock")
        draw.triggered.connect(lambda: self.draw_from_stock())
        menu.addAction(draw)
        self.open_dialog: Callable[[QDialog], object] = lambda d: d.exec()

    def draw_from_stock(self) -> bool:
        from ketalog.ui.stock_session_dialogs import draw_later

        if draw_later(self, self.ctx, self.session_id, self.open_dialog):
            self.reload()
            return True
        return False

    def import_vitals(self, path: Path | None = None) -> QDialog:
        from ketalog.ui.interop_actions import import_vitals

        return import_vitals(self, self.ctx, self.session_id, self.reload, self.open_dialog, path)

    def export_fhir(self, path: Path | None = None) -> Path | None:
        from ketalog.ui.interop_actions import export_fhir

        return export_fhir(self, self.ctx, session_id=self.session_id, path=path)

    # -- refresh ------------------------------------------------------------
    def reload(self) -> None:
        """Vitals come as columns and the table pages full readings in as they scroll into
        view: a 4-hour 1 Hz session would otherwise convert 14,400 rows before showing."""
        self.record = load_record(self.ctx, self.session_id, with_vitals=False)
        self.columns = load_vitals_columns(self.ctx, self.session_id)
        self.header.device_times = device_times(self.ctx, self.session_id)
        self._poll_after, self._shown_ids = max(self.columns.ids, default=0), set()
        self.vitals_model.set_source(self.columns.ids, self.columns.at_s,
                                     lambda ids: load_vitals(self.ctx, ids))
        self._set_chart_window()
        self.chart.set_columns(self.columns, self.record.doses, chart_markers(self.record),
                               alert_thresholds(self.ctx))
        self._show_rest()
        self.alarm_banner.refresh(may_sound=False)  # opening a window is no new alarm

    def _set_chart_window(self) -> None:
        """Arrival to the planned end of the infusion (start + protocol duration), growing
        with now while the session takes entries."""
        s = self.record.session
        start = s.arrival_at or s.infusion_start_at
        duration = self.record.protocol.duration_min if self.record.protocol else 0
        base = s.infusion_start_at or start
        planned = base + timedelta(minutes=duration) if base and duration else None
        live = s.status in (SessionStatus.DRAFT, SessionStatus.IN_PROGRESS)
        self.chart.set_window(start, planned, self.ctx.clock.now, live)

    def reload_without_vitals(self) -> None:
        """After a dose or entry: vitals are unchanged, so skip re-reading a long series."""
        self.record = load_record(self.ctx, self.session_id, with_vitals=False)
        self._set_chart_window()
        self.chart.set_doses(self.record.doses)
        self.chart.set_markers(chart_markers(self.record))
        self._show_rest()

    def _show_rest(self) -> None:
        r, p = self.record, self.record.patient
        self.header.last_bp_at = self.columns.last_bp_at()
        self.setWindowTitle(f"{p.display_name} — MRN {p.mrn} — DOB {p.birth_date} — "
                            f"session {r.session.id}")
        self.header.show_record(r, self.ctx.clock.now())
        self.dosing.show_record(r)
        self.entries.show_record(r)
        self.signoff.clear()
        for s in r.signatures:
            self.signoff.addItem(f"{s.at.astimezone():%Y-%m-%d %H:%M}  {s.meaning}: "
                                 f"{r.user_name(s.user_id)}  (content {s.content_hash[:12]})")
        for a in r.addenda:
            self.signoff.addItem(f"{a.at.astimezone():%Y-%m-%d %H:%M}  ADDENDUM by "
                                 f"{r.user_name(a.author_id)} — reason: {a.reason}\n    {a.text}")
        self._apply_state()

    def _apply_state(self) -> None:
        status = self.record.session.status
        roles = self.ctx.roles  # under emergency access, the grant's roles
        emergency = self.ctx.emergency is not None
        editable = status in (SessionStatus.DRAFT, SessionStatus.IN_PROGRESS)
        clinical = Role.NURSE in roles or Role.PROVIDER in roles
        self.entry.set_read_only(not (editable and clinical))
        self.dosing.set_read_only(not (editable and clinical))
        self.entries.set_read_only(not (editable and clinical))
        self.alarm_banner.set_read_only(not (editable and clinical))
        if not editable:
            self.alarm_banner.refresh(may_sound=False)  # completed: the banner goes
        self.artifact_button.setEnabled(editable and clinical)
        self.import_action.setEnabled(editable and (Role.NURSE in roles or Role.ADMIN in roles))
        self.complete_button.setEnabled(editable and Role.NURSE in roles and not emergency)
        self.sign_button.setEnabled(status is SessionStatus.COMPLETED
                                    and Role.PROVIDER in roles and not emergency)
        self.reopen_button.setEnabled(status is SessionStatus.COMPLETED and clinical)
        self.addendum_button.setEnabled(
            status in (SessionStatus.COMPLETED, SessionStatus.SIGNED) and clinical)
        if status is SessionStatus.SIGNED:
            last = self.record.signatures[-1] if self.record.signatures else None
            who = self.record.user_name(last.user_id) if last else "?"
            when = f"{last.at.astimezone():%Y-%m-%d %H:%M}" if last else "?"
            self.banner.setText(f"Signed by {who} on {when}. This record is read-only; "
                                "corrections are added as addenda.")
            self.banner.setStyleSheet("background: #e6f0e6; color: #1b5e20; padding: 4px; "
                                      "font-weight: bold;")
            self.banner.show()
        elif status is SessionStatus.COMPLETED:
            self.banner.setText("Completed by the nurse; awaiting the provider's signature. "
                                "Reopen (with a reason) to add entries.")
            self.banner.setStyleSheet("background: #fff4d6; padding: 4px;")
            self.banner.show()
        else:
            self.banner.hide()

    def on_vitals_recorded(self, reading: VitalsReading) -> None:
        self._shown_ids.add(reading.id or 0)
        self._show_reading(reading)

    def poll_device_vitals(self) -> None:
        """Readings stored by someone else (the monitor feed's listener) since the last
        look: a primary-key range query, so polling every few seconds costs nothing."""
        if self.record.session.status not in (SessionStatus.DRAFT, SessionStatus.IN_PROGRESS):
            return
        try:
            new = vitals_since(self.ctx, self.session_id, self._poll_after)
        except ServiceError:
            return  # busy: the next tick tries again
        for reading in new:
            self._poll_after = max(self._poll_after, reading.id or 0)
            if reading.id in self._shown_ids:
                self._shown_ids.discard(reading.id)
            else:
                self._show_reading(reading)

    def _show_reading(self, reading: VitalsReading) -> None:
        self.vitals_model.append(reading)
        self.chart.append_vitals(reading)
        self.columns.add(reading)
        if reading.source.startswith("device:"):
            self.header.device_times.append(reading.at)
        self.header.last_bp_at = self.columns.last_bp_at()
        self.header.tick(self.record, self.ctx.clock.now())
        if reading.alerts:
            self.alarm_banner.refresh()

    # -- actions (callable directly by tests and shortcuts) -------------------
    def _run(self, action: str, fn: object) -> bool:
        self.message.setStyleSheet("color: #b00020; font-weight: bold;")
        self.message.clear()
        try:
            fn()  # type: ignore[operator]
        except (AccountLocked, LoginFailed) as exc:
            self.message.setText(f"{action}: {exc}")
            return False
        except USER_ERRORS as exc:
            self.message.setText(f"{action}: {exc}")
            return False
        self.reload()
        return True

    def export_pdf(self, path: Path | None = None) -> Future[bytes] | None:
        """Export the session summary (rendered off the GUI thread); audited."""
        p = self.record.patient
        path = path or ask_pdf_path(self, f"session-{self.session_id}-{p.mrn}.pdf")
        if path is None:
            return None
        return self._document("Export", lambda document, done, failed: export_document(
            self, self.ctx, document, path, lambda out: done(f"PDF written to {out}"), failed))

    def print_pdf(self, printer: tuple[str, int] | None = None) -> Future[bytes] | None:
        """Print through the system spooler after the print dialog; audited."""
        chosen = printer or ask_printer(self)
        if chosen is None:
            return None
        return self._document("Print", lambda document, done, failed: print_document(
            self, self.ctx, document, chosen,
            lambda answer: done(f"Sent to {chosen[0] or 'the default printer'}: {answer}"),
            failed))

    def _document(self, action: str, flow: Callable[
            [Document, Callable[[str], None], Callable[[str], None]], Future[bytes]],
                  ) -> Future[bytes] | None:
        """Gather this session's PDF, then run the export or print `flow` on it; its end
        is said in the message line."""
        try:
            document = session_document(self.ctx, self.session_id)
        except USER_ERRORS as exc:
            self.message.setText(f"{action}: {exc}")
            return None

        def done(text: str) -> None:
            self.message.setStyleSheet("color: #1b5e20; font-weight: bold;")
            self.message.setText(text)

        self.message.clear()
        return flow(document, done, lambda error: self.message.setText(f"{action}: {error}"))

    def mark_artifact(self, vitals_id: int, reason: str) -> bool:
        return self._run("Mark artifact",
                         lambda: svc.mark_artifact(self.ctx, vitals_id, reason))

    def complete(self, escort: str = "", instructions: str = "",
                 discharge_at: datetime | None = None,
                 acknowledged: dict[str, str] | None = None) -> bool:
        return self._run("Complete", lambda: svc.complete_session(
            self.ctx, self.session_id, discharge_at, escort=escort, instructions=instructions,
            acknowledged=acknowledged))

    def sign(self, password: str) -> bool:
        return self._run("Sign", lambda: svc.sign_session(self.ctx, self.session_id, password))

    def reopen(self, reason: str) -> bool:
        return self._run("Reopen", lambda: svc.reopen_session(self.ctx, self.session_id, reason))

    def add_addendum(self, reason: str, text: str) -> bool:
        return self._run("Addendum", lambda: svc.add_addendum(self.ctx, self.session_id,
                                                              reason, text))

    def _ask_artifact(self) -> None:
        rows = self.vitals_view.selectionModel().selectedRows()
        if not rows:
            self.message.setText("Select a vitals row first.")
            return
        reading = self.vitals_model.reading_at(rows[0].row())
        reason, ok = QInputDialog.getText(self, "Mark artifact",
                                          "Why is this reading an artifact? (it stays in the "
                                          "record, struck through)")
        if ok:
            self.mark_artifact(reading.id, reason)  # type: ignore[arg-type]

    def _ask_complete(self) -> None:
        from ketalog.ui.stock_session_dialogs import before_complete

        if not before_complete(self, self.ctx, self.session_id):  # the witnessed waste
            return
        dialog = CompleteDialog(self.ctx, self.session_id, self.record.session.discharge_escort,
                                self)
        if dialog.exec():
            self.complete(dialog.escort.text(), dialog.instructions.toPlainText(),
                          dialog.discharge_at(), dialog.acknowledged())

    def _ask_sign(self) -> None:
        from ketalog.ui.confirmations import SignDialog

        dialog = SignDialog(self.record, self)
        if dialog.exec():
            self.sign(dialog.password.text())

    def _ask_reopen(self) -> None:
        reason, ok = QInputDialog.getText(self, "Reopen session", "Reason for reopening:")
        if ok:
            self.reopen(reason)

    def _ask_addendum(self) -> None:
        dialog = AddendumDialog(self)
        if dialog.exec():
            self.add_addendum(dialog.reason.text(), dialog.text.toPlainText())

    def confirm_close(self) -> bool:
        answer = QMessageBox.question(
            self, "Infusion running",
            "The infusion is still running. Everything entered is saved; close this "
            "window anyway? (Reopen it from the Today board.)")
        return answer == QMessageBox.StandardButton.Yes

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if self.record.infusion_state in ("running", "paused") and not self.confirm_close():
            event.ignore()
            return
        remember(self, "session")
        self.clock_timer.stop()
        self.chart_timer.stop()
        self.device_timer.stop()
        self.closed.emit(self.session_id)
        super().closeEvent(event)
