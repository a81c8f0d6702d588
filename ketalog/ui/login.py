"""First-run set-up and login. Messages distinguish a wrong password from a locked
account, because the nurse's next step differs (retry vs. call an admin)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ketalog.domain.clock import Clock
from ketalog.services.auth import MIN_PASSWORD_LENGTH, bootstrap_admin, login
from ketalog.services.context import Context
from ketalog.services.database import Database
from ketalog.services.errors import AccountLocked, LoginFailed, ServiceError, StoreFailed
from ketalog.services.protocols import seed_protocols
from ketalog.services.settings import clinic_name_before_login
from ketalog.ui.feedback import error_label, password_field


class LoginDialog(QDialog):
    """Username + password; on success `context` holds the logged-in user."""

    def __init__(self, store: Database, clock: Clock, parent: QWidget | None = None,
                 username: str = "") -> None:
        super().__init__(parent)
        self.store, self.clock = store, clock
        self.context: Context | None = None
        self.setObjectName("loginDialog")
        self.setWindowTitle(f"ketalog — {clinic_name_before_login(store)} — log in")
        self.username = QLineEdit(username)
        self.username.setObjectName("username")
        self.password = password_field("password")
        self.error = error_label("errorLabel")
        form = QFormLayout()
        form.addRow("&Username", self.username)
        form.addRow("&Password", self.password)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Log in")
        buttons.accepted.connect(self.try_login)
        buttons.rejected.connect(self.reject)
        self.emergency_button = QPushButton("&Emergency access...")
        self.emergency_button.setObjectName("emergencyAccess")
        self.emergency_button.setToolTip("Break-glass: when you cannot log in and a patient "
                                         "needs care documented now (audited, reviewed)")
        self.emergency_button.clicked.connect(lambda: self.emergency())
        buttons.addButton(self.emergency_button, QDialogButtonBox.ButtonRole.ResetRole)
        self.change_database_button = QPushButton("Change &database...")
        self.change_database_button.setObjectName("changeDatabase")
        self.change_database_button.setToolTip("Where this workstation keeps the records: "
                                               "this computer only, or the clinic server")
        self.change_database_button.clicked.connect(lambda: self.change_database())
        buttons.addButton(self.change_database_button, QDialogButtonBox.ButtonRole.ResetRole)
        # Enter is handled by the fields themselves; a default button would fire too and
        # count one wrong password twice.
        for button in buttons.buttons():
            button.setAutoDefault(False)
            button.setDefault(False)
        self.username.returnPressed.connect(self._username_entered)
        self.password.returnPressed.connect(self.try_login)
        title = QLabel(f"<h3>{clinic_name_before_login(store)}</h3>")
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        (self.password if username else self.username).setFocus()
        self.setMinimumWidth(380)

    def change_database(self, dialog: QDialog | None = None) -> bool:
        """Choose (and remember) where this workstation's records live; used from the
        next start of ketalog."""
        from ketalog.services.workstation import remembered_database
        from ketalog.ui.database_choice import DatabaseChoiceDialog

        ask = dialog or DatabaseChoiceDialog(self.clock, remembered_database() or "", self)
        if not ask.exec():
            return False
        self.error.setText("Saved: ketalog uses this database from its next start "
                           "(quit and start it again). --db or KETALOG_DB still win.")
        self.error.show()
        return True

    def emergency(self, dialog: QDialog | None = None) -> None:
        """Break-glass (ui/emergency_dialog.py); on success this login is done."""
        from ketalog.ui.emergency_dialog import EmergencyDialog

        box = dialog or EmergencyDialog(self.store, self.clock, self.username.text().strip(),
                                        self)
        if dialog is None:
            box.exec()
        context = getattr(box, "context", None)
        if context is not None:
            self.context = context
            self.accept()

    def _username_entered(self) -> None:
        if self.password.text():
            self.try_login()
        else:
            self.password.setFocus()

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    def try_login(self) -> None:
        name = self.username.text().strip()
        if not name:
            self.show_error("Enter your username.")
            self.username.setFocus()
            return
        try:
            self.context = login(self.store, self.clock, name, self.password.text())
        except AccountLocked as exc:
            self.show_error(f"{exc}.")
            self.password.clear()
            return
        except LoginFailed:
            self.show_error("Wrong username or password. Try again; after 5 failed attempts "
                            "the account locks.")
            self.password.clear()
            self.password.setFocus()
            return
        except StoreFailed as exc:  # busy, damaged, unreadable
            self.show_error(f"Cannot log in: {exc}")
            return
        self.accept()


class FirstRunDialog(QDialog):
    """An empty database asks for the clinic name and the first admin account."""

    def __init__(self, store: Database, clock: Clock, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self.clock = store, clock
        self.context: Context | None = None
        self.setObjectName("firstRunDialog")
        self.setWindowTitle("ketalog — set up a new clinic database")
        self.clinic = QLineEdit()
        self.clinic.setObjectName("clinicName")
        self.username = QLineEdit()
        self.username.setObjectName("adminUsername")
        self.display_name = QLineEdit()
        self.display_name.setObjectName("adminDisplayName")
        self.password = password_field("adminPassword")
        self.repeat = password_field("adminPasswordRepeat")
        self.error = error_label("errorLabel")
        form = QFormLayout()
        form.addRow("&Clinic name", self.clinic)
        form.addRow("Admin &username", self.username)
        form.addRow("Admin &full name", self.display_name)
        form.addRow(f"&Password (≥ {MIN_PASSWORD_LENGTH} characters)", self.password)
        form.addRow("&Repeat password", self.repeat)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create clinic")
        buttons.accepted.connect(self.create)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("This database is empty. Name the clinic and create the first "
                                "administrator; the administrator then adds nurses and "
                                "providers."))
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.setMinimumWidth(460)

    def create(self) -> None:
        if not self.clinic.text().strip():
            self.error.setText("Enter the clinic name (it is printed on every PDF).")
            self.error.show()
            return
        if self.password.text() != self.repeat.text():
            self.error.setText("The two passwords differ.")
            self.error.show()
            return
        try:
            bootstrap_admin(self.store, self.clock, self.username.text(), self.password.text(),
                            self.display_name.text().strip(), self.clinic.text())
            seed_protocols(self.store)
            self.context = login(self.store, self.clock, self.username.text(),
                                 self.password.text())
        except ServiceError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        self.accept()
