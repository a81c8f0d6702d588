"""Patient > Monitor quarantine: messages the feed could not store, with the reason.
A nurse assigns one to an open session (its readings pass the usual checks) or
discards it with a reason; both are audited under her name."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ketalog.domain.errors import PlausibilityError
from ketalog.services.context import Context
from ketalog.services.device_feed_choices import open_session_choices
from ketalog.services.device_quarantine import (
    QuarantinedMessage,
    assign_quarantined,
    discard_quarantined,
    quarantined,
)
from ketalog.services.errors import ServiceError
from ketalog.ui.table_models import RowsModel


def quarantine_model() -> RowsModel[QuarantinedMessage]:
    return RowsModel[QuarantinedMessage]([
        ("Received", lambda m: m.received_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")),
        ("From", lambda m: m.sending_app or "?"),
        ("Message id", lambda m: m.control_id or "-"),
        ("Answer", lambda m: m.ack_code),
        ("Reason", lambda m: m.reason),
    ])


class QuarantineDialog(QDialog):
    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("quarantineDialog")
        self.setWindowTitle("Monitor quarantine")
        self.model = quarantine_model()
        self.view = QTableView()
        self.view.setObjectName("quarantineTable")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.raw = QPlainTextEdit()
        self.raw.setObjectName("quarantineRaw")
        self.raw.setReadOnly(True)
        self.raw.setMaximumHeight(140)
        self.sessions = QComboBox()
        self.sessions.setObjectName("quarantineSession")
        self.assign_button = QPushButton("&Assign to session")
        self.assign_button.setObjectName("quarantineAssign")
        self.discard_button = QPushButton("&Discard...")
        self.discard_button.setObjectName("quarantineDiscard")
        self.message = QLabel()
        self.message.setObjectName("quarantineMessage")
        self.message.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(QLabel("Session:"))
        row.addWidget(self.sessions, 1)
        row.addWidget(self.assign_button)
        row.addWidget(self.discard_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view)
        layout.addWidget(self.raw)
        layout.addLayout(row)
        layout.addWidget(self.message)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._show_raw())
        self.assign_button.clicked.connect(lambda: self.assign())
        self.discard_button.clicked.connect(lambda: self.discard())
        self.resize(1000, 560)
        self.refresh()

    def refresh(self) -> None:
        self.model.set_rows(quarantined(self.ctx))
        self.sessions.clear()
        for choice in open_session_choices(self.ctx):
            self.sessions.addItem(choice.label, choice.session_id)
        self.view.resizeColumnsToContents()  # a handful of rows: measuring them is cheap
        self.view.horizontalHeader().setStretchLastSection(True)
        if self.model.rowCount():
            self.view.selectRow(0)
        self._show_raw()

    def selected(self) -> QuarantinedMessage | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    def _show_raw(self) -> None:
        message = self.selected()
        self.raw.setPlainText(message.raw.replace("\r", "\n") if message else "")
        has = message is not None
        self.assign_button.setEnabled(has and self.sessions.count() > 0)
        self.discard_button.setEnabled(has)

    def assign(self, session_id: int | None = None) -> bool:
        message = self.selected()
        target = session_id if session_id is not None else self.sessions.currentData()
        if message is None or target is None:
            return False
        try:
            ids = assign_quarantined(self.ctx, message.id, int(target))
        except (PlausibilityError, ServiceError) as exc:
            self.message.setText(f"Not assigned: {exc}")
            return False
        self.message.setText(f"{len(ids)} reading(s) stored in session {target}.")
        self.refresh()
        return True

    def discard(self, reason: str | None = None) -> bool:
        message = self.selected()
        if message is None:
            return False
        if reason is None:
            reason, ok = QInputDialog.getText(self, "Discard monitor message",
                                              "Why is this message discarded?")
            if not ok:
                return False
        try:
            discard_quarantined(self.ctx, message.id, reason)
        except (PlausibilityError, ServiceError) as exc:
            self.message.setText(f"Not discarded: {exc}")
            return False
        self.message.setText("Discarded.")
        self.refresh()
        return True
