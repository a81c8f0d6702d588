"""Admin > Audit log: who did what, when, to which record. Filters (user, patient MRN,
clinic-local days, action) run as one indexed query, PAGE_SIZE entries a page; the selected
entry's old and new values show in full below. Emergency accesses awaiting review sit
on top, where an admin cannot miss them. Export writes the filtered entries to CSV."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ketalog.services.audit_log import (
    PAGE_SIZE,
    AuditFilter,
    AuditLine,
    AuditPage,
    audit_actions,
    export_audit_csv,
    search_audit,
)
from ketalog.services.auth import list_users
from ketalog.services.context import Context
from ketalog.services.emergency import EmergencyRecord, pending_reviews, review_emergency
from ketalog.services.errors import ServiceError
from ketalog.ui.feedback import error_label
from ketalog.ui.table_models import RowsModel, rows_view
from ketalog.ui.users_dialog import AskReason, ask_reason_dialog

ERRORS = ServiceError
ANY = "(any)"


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def audit_model() -> RowsModel[AuditLine]:
    return RowsModel[AuditLine]([
        ("When", lambda e: f"{e.at.astimezone():%Y-%m-%d %H:%M:%S}"),
        ("Who", lambda e: e.username),
        ("Action", lambda e: e.action),
        ("Table", lambda e: e.table),
        ("Patient", lambda e: e.mrn),
        ("Row", lambda e: e.row_uuid[:8]),
        ("Reason", lambda e: _short(e.reason, 40)),
        ("Old values", lambda e: _short(e.old_values)),
        ("New values", lambda e: _short(e.new_values)),
    ])


def _pretty(text: str) -> str:
    if not text:
        return "-"
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False, sort_keys=True)
    except ValueError:
        return text


def ask_csv_path(parent: QWidget, suggested: str) -> Path | None:
    documents = Path.home() / "Documents"
    start = (documents if documents.is_dir() else Path.home()) / suggested
    name, _ = QFileDialog.getSaveFileName(parent, "Export audit log", str(start),
                                          "CSV files (*.csv)")
    if not name:
        return None
    path = Path(name)
    return path if path.suffix.lower() == ".csv" else path.with_name(path.name + ".csv")


class AuditDialog(QDialog):
    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.ask_reason: AskReason = ask_reason_dialog(self)
        self.ask_path: Callable[[QWidget, str], Path | None] = ask_csv_path
        self.page: AuditPage | None = None
        self.pages: list[int | None] = [None]  # before_id of each page shown so far
        self.setObjectName("auditDialog")
        self.setWindowTitle("Audit log")
        self._build_filters()
        self._build_emergency()
        self.model = audit_model()
        self.view = rows_view(self.model, "auditTable", fit_columns=False, alternate=True)
        self.view.setWordWrap(False)
        self.view.verticalHeader().setDefaultSectionSize(24)
        header = self.view.horizontalHeader()
        for column, width in enumerate((145, 200, 190, 130, 75, 75, 170, 180)):
            self.view.setColumnWidth(column, width)  # fixed: ResizeToContents reads every row
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._show_detail())
        self.detail = QPlainTextEdit()
        self.detail.setObjectName("auditDetail")
        self.detail.setReadOnly(True)
        self.detail.setPlaceholderText("Select an entry to see its old and new values.")
        self.status = QLabel()
        self.status.setObjectName("auditStatus")
        self.error = error_label("auditError")
        self.newer = QPushButton("◂ &Newer")
        self.newer.setObjectName("newerPage")
        self.newer.clicked.connect(self.newer_page)
        self.older = QPushButton("&Older ▸")
        self.older.setObjectName("olderPage")
        self.older.clicked.connect(self.older_page)
        self.export_button = QPushButton("&Export CSV...")
        self.export_button.setObjectName("exportAudit")
        self.export_button.setToolTip("Ctrl+Shift+E: the filtered entries, all pages")
        self.export_button.clicked.connect(lambda: self.export())
        QShortcut(QKeySequence("Ctrl+Shift+E"), self, activated=lambda: self.export())
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        for button in (self.newer, self.older, self.export_button, close):
            bottom.addWidget(button)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.view)
        splitter.addWidget(self.detail)
        splitter.setSizes([460, 140])
        layout = QVBoxLayout(self)
        layout.addWidget(self.emergency_box)
        layout.addLayout(self.filter_row)
        layout.addWidget(self.error)
        layout.addWidget(splitter, 1)
        layout.addLayout(bottom)
        self.resize(1280, 760)
        self.refresh_emergencies()
        self.search()

    # -- layout ---------------------------------------------------------------
    def _build_filters(self) -> None:
        self.user = QComboBox()
        self.user.setObjectName("filterUser")
        self.user.addItem(ANY, "")
        self.mrn = QLineEdit()
        self.mrn.setObjectName("filterMrn")
        self.mrn.setPlaceholderText("MRN")
        self.since = QLineEdit()
        self.since.setObjectName("filterFrom")
        self.since.setPlaceholderText("from YYYY-MM-DD")
        self.until = QLineEdit()
        self.until.setObjectName("filterTo")
        self.until.setPlaceholderText("to YYYY-MM-DD")
        self.action = QComboBox()
        self.action.setObjectName("filterAction")
        self.action.addItem(ANY, "")
        try:
            for user in list_users(self.ctx):
                self.user.addItem(f"{user.username} ({user.display_name})", user.username)
        except ERRORS:
            pass  # not an admin: search() shows the refusal
        self.refresh_actions()
        for field in (self.mrn, self.since, self.until):
            field.returnPressed.connect(self.search)
        self.search_button = QPushButton("&Search")
        self.search_button.setObjectName("searchAudit")
        self.search_button.clicked.connect(self.search)
        clear = QPushButton("C&lear")
        clear.clicked.connect(self.clear_filters)
        self.filter_row = QHBoxLayout()
        for label, widget in (("&User", self.user), ("&Patient", self.mrn),
                              ("&From", self.since), ("&To", self.until),
                              ("&Action", self.action)):
            text = QLabel(label)
            text.setBuddy(widget)
            self.filter_row.addWidget(text)
            self.filter_row.addWidget(widget, 1)
        self.filter_row.addWidget(self.search_button)
        self.filter_row.addWidget(clear)

    def _build_emergency(self) -> None:
        self.emergency_box = QGroupBox()
        self.emergency_box.setObjectName("emergencyReview")
        self.emergency_box.setStyleSheet(
            "QGroupBox { border: 2px solid #b00020; background: #fff0f0; margin-top: 1.4em; "
            "font-weight: bold; } QGroupBox::title { color: #b00020; "
            "subcontrol-origin: margin; left: 8px; }")
        self.emergency_list = QListWidget()
        self.emergency_list.setObjectName("emergencyList")
        self.emergency_list.setMaximumHeight(64)
        self.acknowledge = QPushButton("Ac&knowledge...")
        self.acknowledge.setObjectName("acknowledgeEmergency")
        self.acknowledge.clicked.connect(lambda: self.acknowledge_selected())
        show = QPushButton("Show its &entries")
        show.setObjectName("showEmergencyEntries")
        show.clicked.connect(self.show_emergency_entries)
        buttons = QVBoxLayout()
        buttons.addWidget(self.acknowledge)
        buttons.addWidget(show)
        buttons.addStretch(1)
        row = QHBoxLayout(self.emergency_box)
        row.addWidget(self.emergency_list, 1)
        row.addLayout(buttons)

    def refresh_actions(self) -> None:
        """The action list grows as the log does (an export adds its own action)."""
        current = self.action.currentData()
        try:
            actions = audit_actions(self.ctx)
        except ERRORS:
            return
        self.action.clear()
        self.action.addItem(ANY, "")
        for action in actions:
            self.action.addItem(action, action)
        self.action.setCurrentIndex(max(self.action.findData(current), 0))

    # -- emergency review -----------------------------------------------------
    def refresh_emergencies(self) -> None:
        try:
            pending = pending_reviews(self.ctx)
        except ERRORS:
            pending = []
        self.emergency_list.clear()
        for record in pending:
            item = QListWidgetItem(self._describe(record))
            item.setData(Qt.ItemDataRole.UserRole, record)
            self.emergency_list.addItem(item)
        if pending:
            self.emergency_list.setCurrentRow(0)
        self.emergency_box.setTitle(f"Emergency access awaiting review ({len(pending)})")
        self.emergency_box.setVisible(bool(pending))

    @staticmethod
    def _describe(r: EmergencyRecord) -> str:
        ended = (f"ended {r.ended_at.astimezone():%H:%M}" if r.ended_at
                 else f"until {r.expires_at.astimezone():%H:%M}")
        locked = ", account was locked" if r.account_was_locked else ""
        return (f"#{r.id}  {r.started_at.astimezone():%Y-%m-%d %H:%M}  {r.username} "
                f"({r.display_name}){locked}; {ended}; {r.entries} entries — “{r.reason}”")

    def _selected_emergency(self) -> EmergencyRecord | None:
        item = self.emergency_list.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    def acknowledge_selected(self) -> bool:
        record = self._selected_emergency()
        if record is None:
            return False
        note = self.ask_reason(f"Review emergency access #{record.id}",
                               f"What did you check about {record.username}'s emergency "
                               "access? (kept in the audit log)")
        if note is None:
            return False
        try:
            review_emergency(self.ctx, record.id, note)
        except ERRORS as exc:
            self.show_error(str(exc))
            return False
        self.refresh_emergencies()
        self.search()
        return True

    def show_emergency_entries(self) -> None:
        record = self._selected_emergency()
        if record is None:
            return
        self.clear_filters(search=False)
        self._select_user(record.username)
        self.since.setText(f"{record.started_at.astimezone():%Y-%m-%d}")
        self.search()

    # -- filters and pages ------------------------------------------------------
    def _select_user(self, username: str) -> None:
        index = self.user.findData(username)
        self.user.setCurrentIndex(max(index, 0))

    def clear_filters(self, search: bool = True) -> None:
        self.user.setCurrentIndex(0)
        self.action.setCurrentIndex(0)
        for field in (self.mrn, self.since, self.until):
            field.clear()
        if search:
            self.search()

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    def current_filter(self) -> AuditFilter:
        def day(field: QLineEdit, label: str) -> date | None:
            text = field.text().strip()
            if not text:
                return None
            try:
                return date.fromisoformat(text)
            except ValueError:
                field.setFocus()
                raise ServiceError(f"{label} date must be YYYY-MM-DD (got {text!r})") from None

        return AuditFilter(username=str(self.user.currentData() or ""), mrn=self.mrn.text(),
                           since=day(self.since, "the 'from'"), until=day(self.until, "the 'to'"),
                           action=str(self.action.currentData() or ""))

    def search(self) -> None:
        self.pages = [None]
        self._load()

    def older_page(self) -> None:
        if self.page and self.page.more and self.page.lines:
            self.pages.append(self.page.lines[-1].id)
            self._load()

    def newer_page(self) -> None:
        if len(self.pages) > 1:
            self.pages.pop()
            self._load()

    def _load(self) -> None:
        try:
            self.page = search_audit(self.ctx, self.current_filter(), self.pages[-1])
        except ERRORS as exc:
            self.show_error(str(exc))
            self.model.set_rows([])
            self.page = None
            self.status.setText("")
            self._enable()
            return
        self.error.hide()
        self.model.set_rows(self.page.lines)
        first = (len(self.pages) - 1) * PAGE_SIZE + 1
        shown = len(self.page.lines)
        self.status.setText(f"Entries {first}–{first + shown - 1} of {self.page.total}, "
                            "newest first" if shown else "No entries match these filters.")
        if shown:
            self.view.selectRow(0)
        self._enable()

    def _enable(self) -> None:
        self.newer.setEnabled(len(self.pages) > 1)
        self.older.setEnabled(bool(self.page and self.page.more))
        self.export_button.setEnabled(bool(self.page and self.page.total))

    def _show_detail(self) -> None:
        rows = self.view.selectionModel().selectedRows()
        if not rows:
            self.detail.clear()
            return
        e = self.model.row_at(rows[0].row())
        self.detail.setPlainText(
            f"#{e.id}  {e.at.astimezone():%Y-%m-%d %H:%M:%S.%f}"[:-3]
            + f"  {e.username}  {e.action}  {e.table}  {e.row_uuid}"
            + (f"  patient {e.mrn}" if e.mrn else "")
            + (f"\nReason: {e.reason}" if e.reason else "")
            + f"\nOld: {_pretty(e.old_values)}\nNew: {_pretty(e.new_values)}")

    # -- export -----------------------------------------------------------------
    def export(self, path: Path | None = None) -> int | None:
        """Write every filtered entry (all pages); the service audits the export."""
        try:
            f = self.current_filter()
        except ServiceError as exc:
            self.show_error(str(exc))
            return None
        if path is None:
            stamp = f"{self.ctx.clock.now().astimezone():%Y%m%d-%H%M}"
            path = self.ask_path(self, f"audit-log-{stamp}.csv")
            if path is None:
                return None
        try:
            count = export_audit_csv(self.ctx, f, path)
        except ERRORS as exc:
            self.show_error(str(exc))
            return None
        self.refresh_actions()
        self.status.setText(f"Exported {count} entries to {path}.")
        return count
