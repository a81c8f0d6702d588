"""Break-glass from the login screen: the user's own username and password, and a
reason. The warning says plainly what happens: limited time, clinical work only, every
entry marked, an admin reviews it."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from ketalog.domain.clock import Clock
from ketalog.services.context import Context
from ketalog.services.database import Database
from ketalog.services.emergency import EMERGENCY_MINUTES, MIN_REASON_LENGTH, start_emergency
from ketalog.services.errors import ServiceError
from ketalog.ui.feedback import ERROR_COLOUR, error_label, finish_form, password_field

WARNING = (f"<b>Emergency access</b> is for when you cannot log in normally and a patient "
           f"needs care documented now (for example, your account is locked mid-infusion and "
           f"no admin is here). You get <b>{EMERGENCY_MINUTES} minutes</b> of clinical "
           "access (recording, not signing or completing). <b>Every entry is marked as made "
           "under emergency access and an admin reviews all of it.</b>")


class EmergencyDialog(QDialog):
    def __init__(self, store: Database, clock: Clock, username: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self.clock = store, clock
        self.context: Context | None = None
        self.setObjectName("emergencyDialog")
        self.setWindowTitle("ketalog — emergency access")
        warning = QLabel(WARNING)
        warning.setWordWrap(True)
        warning.setStyleSheet(f"border: 2px solid {ERROR_COLOUR}; background: #fff0f0; "
                              "padding: 8px;")
        self.username = QLineEdit(username)
        self.username.setObjectName("emergencyUsername")
        self.password = password_field("emergencyPassword")
        self.reason = QPlainTextEdit()
        self.reason.setObjectName("emergencyReason")
        self.reason.setPlaceholderText("What is happening, which patient, why a normal login "
                                       f"is impossible (at least {MIN_REASON_LENGTH} characters)")
        self.reason.setTabChangesFocus(True)
        self.reason.setFixedHeight(80)
        self.error = error_label("emergencyError")
        form = QFormLayout()
        form.addRow("&Username", self.username)
        form.addRow("&Password", self.password)
        form.addRow("&Reason", self.reason)
        buttons = finish_form(self, form, self.error, self.start,
                              ok_text="Start emergency access", header=warning)
        for button in buttons.buttons():  # one press, one attempt (it counts)
            button.setAutoDefault(False)
            button.setDefault(False)
        (self.password if username else self.username).setFocus()
        self.setMinimumWidth(520)

    def start(self) -> None:
        try:
            self.context = start_emergency(self.store, self.clock, self.username.text(),
                                           self.password.text(), self.reason.toPlainText())
        except ServiceError as exc:
            self.error.setText(str(exc))
            self.error.show()
            self.password.clear()
            return
        self.accept()
