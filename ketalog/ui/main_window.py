"""The main window: patients on the left (instant search by name, MRN or date of
birth), today's sessions by chair on the right, the user and database in the status bar."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ketalog import __version__
from ketalog.services.context import Context
from ketalog.services.patients import search_patients
from ketalog.services.settings import clinic_name
from ketalog.services.summary import BoardRow, today_board
from ketalog.ui.patient_dialog import PatientDialog
from ketalog.ui.table_models import RowsModel, local_time, patient_model

STATUS_TEXT = {"draft": "arrived", "in_progress": "infusing", "completed": "completed",
               "signed": "signed"}


def board_model() -> RowsModel[BoardRow]:
    return RowsModel[BoardRow]([
        ("Chair", lambda b: b.chair or "-"),
        ("Patient", lambda b: b.patient),
        ("MRN", lambda b: b.mrn),
        ("Status", lambda b: STATUS_TEXT.get(b.status, b.status)),
        ("Started", lambda b: local_time(b.started_at)),
        ("Elapsed", lambda b: "" if b.elapsed_min is None
         else f"{b.elapsed_min // 60} h {b.elapsed_min % 60:02d} min"),
    ])


def _table(model: RowsModel, name: str) -> QTableView:  # type: ignore[type-arg]
    view = QTableView()
    view.setObjectName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().hide()
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    view.horizontalHeader().setStretchLastSection(True)
    view.setAlternatingRowColors(True)
    return view


class MainWindow(QMainWindow):
    logout_requested = Signal()
    open_session_requested = Signal(int)
    start_session_requested = Signal(int)

    def __init__(self, ctx: Context, db_path: Path) -> None:
        super().__init__()
        self.ctx, self.db_path = ctx, db_path
        self.setObjectName("mainWindow")
        self.setWindowTitle(f"ketalog {__version__} — {clinic_name(ctx.store)}")
        self.search = QLineEdit()
        self.search.setObjectName("patientSearch")
        self.search.setPlaceholderText("Search by name, MRN or date of birth (YYYY-MM-DD)  —  Ctrl+F")
        self.search.setClearButtonEnabled(True)
        self.patients = patient_model()
        self.patient_view = _table(self.patients, "patientTable")
        self.board = board_model()
        self.board_view = _table(self.board, "todayBoard")
        self._build_layout()
        self._build_menus()
        self.search.textChanged.connect(self.refresh_patients)
        self.patient_view.activated.connect(lambda _i: self.edit_patient())  # Enter/double-click
        self.board_view.activated.connect(self._open_board_row)
        self.refresh_patients()
        self.refresh_board()
        self.board_timer = QTimer(self)
        self.board_timer.timeout.connect(self.refresh_board)
        self.board_timer.start(30_000)
        user = ctx.user
        roles = ", ".join(sorted(r.value for r in user.roles))
        who = f"{user.display_name}{', ' + user.credentials if user.credentials else ''}"
        self.statusBar().showMessage(f"{who} ({roles})  ·  {db_path}")

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
        right = QGroupBox("Today")
        right_layout = QVBoxLayout(right)
        right_layout.addWidget(self.board_view)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([620, 560])
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.addWidget(splitter)
        self.setCentralWidget(central)

    def _action(self, menu_name: str, text: str, shortcut: str | QKeySequence.StandardKey,
                slot: Callable[[], object], name: str) -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        self.menus[menu_name].addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.menus = {name: bar.addMenu(title) for name, title in
                      (("file", "&File"), ("patient", "&Patient"), ("help", "&Help"))}
        self._action("file", "&Log out", "Ctrl+L", self.logout_requested.emit, "actionLogout")
        self._action("file", "&Quit", QKeySequence.StandardKey.Quit, self.close, "actionQuit")
        self._action("patient", "&New patient...", QKeySequence.StandardKey.New,
                     self.new_patient, "actionNewPatient")
        self._action("patient", "&Edit patient...", "Ctrl+E", self.edit_patient,
                     "actionEditPatient")
        self._action("patient", "&Start session...", "Ctrl+Shift+S", self._start_session,
                     "actionStartSession")
        self._action("patient", "&Find patient", QKeySequence.StandardKey.Find,
                     self.search.setFocus, "actionFind")
        self._action("help", "&About ketalog", "F1", self._about, "actionAbout")

    # -- behaviour ----------------------------------------------------------
    def refresh_patients(self) -> None:
        self.patients.set_rows(search_patients(self.ctx, self.search.text(), limit=500))
        if self.patients.rowCount():
            self.patient_view.selectRow(0)

    def refresh_board(self) -> None:
        self.board.set_rows(today_board(self.ctx.store, self.ctx.clock.now()))

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
        dialog = PatientDialog(self.ctx, self.patients.row_at(row), parent=self)
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

    def _about(self) -> None:
        QMessageBox.about(self, "About ketalog",
                          f"ketalog {__version__}\nInfusion-session logbook.\n"
                          f"Database: {self.db_path}")
