"""Warnings that need a reason before an entry is recorded (an allergy match, a dose
outside the formulary): each shown with its source, a reason typed, the entry saved with
it. Enter in the reason box does not record: the nurse presses the button (Alt+A)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ketalog.domain.allergies import ALLERGY_CODE
from ketalog.domain.dosing import DoseWarning
from ketalog.ui.feedback import ERROR_COLOUR


def warning_text(warnings: Sequence[DoseWarning]) -> str:
    return "\n\n".join(f"⚠ {w.message}\n   Source: {w.source}" for w in warnings)


class AcknowledgeDialog(QDialog):
    def __init__(self, warnings: Sequence[DoseWarning], what: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        allergy = any(w.code == ALLERGY_CODE for w in warnings)
        self.setWindowTitle("Allergy warning" if allergy else "Medication warning")
        self.setObjectName("acknowledgeDialog")
        title = QLabel("ALLERGY" if allergy else "Check this dose")
        title.setStyleSheet(f"background: {ERROR_COLOUR}; color: white; font-weight: bold; "
                            "font-size: 16px; padding: 4px 8px;")
        self.text = QLabel(warning_text(warnings))
        self.text.setObjectName("acknowledgeWarnings")
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setWordWrap(True)
        self.reason = QLineEdit()
        self.reason.setObjectName("acknowledgeReason")
        self.reason.setPlaceholderText("why it is given anyway, e.g. provider aware, reaction "
                                       "was mild itching")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText(f"&Acknowledge and record {what}")
        self.ok.setObjectName("acknowledgeOk")
        self.ok.setAutoDefault(False)
        self.ok.setDefault(False)
        self.ok.setEnabled(False)
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setText("Do &not record")
        self.reason.textChanged.connect(lambda t: self.ok.setEnabled(bool(t.strip())))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.text)
        layout.addWidget(QLabel("Reason (stored with the entry, printed on the record):"))
        layout.addWidget(self.reason)
        layout.addWidget(self.buttons)
        self.resize(560, self.sizeHint().height())

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        # Enter alone never records an entry the nurse was warned about.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.ignore()
            return
        super().keyPressEvent(event)


def ask_reason(parent: QWidget, warnings: Sequence[DoseWarning], what: str) -> str | None:
    """The reason typed, or None when the nurse chose not to record."""
    dialog = AcknowledgeDialog(warnings, what, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.reason.text().strip() or None
