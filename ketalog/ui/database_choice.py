"""The first start's question: where do this workstation's records live? On this
computer only (the local file in the user data folder), or on the clinic server (a
PostgreSQL address the administrator gives). "Test connection" opens the server and says
plainly what worked or failed, naming the server without its password. The choice is
remembered for this workstation (services/workstation.py)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from ketalog.domain.clock import Clock, SystemClock
from ketalog.services.database import is_server_address, open_server_database, safe_location
from ketalog.services.errors import ServiceError
from ketalog.services.workstation import local_file, remember_database

LOCAL_TEXT = ("The records are kept in a file on this computer only. Choose this "
              "when this is the clinic's one workstation.")
SERVER_TEXT = ("Several workstations share one database on the clinic's server; your "
               "administrator gives you its address.")
ERROR_STYLE = "color: #b00020; font-weight: bold;"
GOOD_STYLE = "color: #1b5e20; font-weight: bold;"


def test_server(address: str, clock: Clock) -> tuple[bool, str]:
    """(worked, what to say) after opening the server at `address` and closing it again;
    the message never holds the password."""
    if not is_server_address(address):
        return False, ("That is not a server address. It looks like "
                       "postgresql://USER@HOST/DATABASE (ask your administrator).")
    where = safe_location(address)
    try:
        store = open_server_database(address, clock)
    except ServiceError as exc:
        text = str(exc)
        secret = _password_of(address)
        if secret:
            text = text.replace(secret, "***")
        return False, f"Could not open {where}: {text}"
    except Exception as exc:  # noqa: BLE001 - a driver's own error, said in one line
        return False, f"Could not open {where}: {type(exc).__name__}"
    store.close()
    return True, f"Connected to {where}: the clinic's database is there and ready."


def _password_of(address: str) -> str:
    from urllib.parse import urlsplit

    try:
        if "://" in address:
            return urlsplit(address).password or ""
    except ValueError:
        return ""
    for part in address.split():
        if part.startswith("password="):
            return part.partition("=")[2]
    return ""


class DatabaseChoiceDialog(QDialog):
    """Enter = OK, Escape = cancel (the app then exits); `location` is the choice."""

    def __init__(self, clock: Clock | None = None, current: str = "",
                 parent: QWidget | None = None, remember: bool = True) -> None:
        super().__init__(parent)
        self.setObjectName("databaseChoiceDialog")
        self.setWindowTitle("ketalog: where are the records kept?")
        self.clock = clock or SystemClock()
        self.remember = remember
        self.location: Path | str | None = None
        layout = QVBoxLayout(self)
        intro = QLabel("Where does this workstation keep the clinic's records?")
        intro.setStyleSheet("font-weight: bold;")
        layout.addWidget(intro)
        self.local = QRadioButton("This computer only")
        self.local.setObjectName("choiceLocal")
        layout.addWidget(self.local)
        local_help = QLabel(f"{LOCAL_TEXT}\n({local_file()})")
        local_help.setWordWrap(True)
        local_help.setIndent(24)
        layout.addWidget(local_help)
        self.server = QRadioButton("Clinic server")
        self.server.setObjectName("choiceServer")
        layout.addWidget(self.server)
        server_help = QLabel(SERVER_TEXT)
        server_help.setWordWrap(True)
        server_help.setIndent(24)
        layout.addWidget(server_help)
        group = QButtonGroup(self)
        group.addButton(self.local)
        group.addButton(self.server)
        self.address = QLineEdit()
        self.address.setObjectName("serverAddress")
        self.address.setPlaceholderText("postgresql://workstation@clinic-server/ketalog")
        self.address.setAccessibleName("Clinic server address")
        layout.addWidget(self.address)
        self.test_button = QPushButton("Test connection")
        self.test_button.setObjectName("testConnection")
        self.test_button.setAutoDefault(False)
        self.test_button.clicked.connect(self.test_connection)
        layout.addWidget(self.test_button)
        self.message = QLabel()
        self.message.setObjectName("choiceMessage")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setDefault(True)
        buttons.accepted.connect(self.choose)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.server.toggled.connect(self._server_toggled)
        if current and is_server_address(current):
            self.server.setChecked(True)
            self.address.setText(current)
        else:
            self.local.setChecked(True)
        self._server_toggled(self.server.isChecked())
        for first, second in [(self.local, self.server), (self.server, self.address),
                              (self.address, self.test_button),
                              (self.test_button, self.ok_button)]:
            QWidget.setTabOrder(first, second)
        (self.local if self.local.isChecked() else self.address).setFocus()
        self.setMinimumWidth(560)

    def _server_toggled(self, on: bool) -> None:
        self.address.setEnabled(on)
        self.test_button.setEnabled(on)
        if on:
            self.address.setFocus()

    def _say(self, text: str, good: bool) -> None:
        self.message.setStyleSheet(GOOD_STYLE if good else ERROR_STYLE)
        self.message.setText(text)

    def test_connection(self) -> bool:
        worked, text = test_server(self.address.text().strip(), self.clock)
        self._say(text, worked)
        return worked

    def choose(self) -> None:
        if self.local.isChecked():
            self.location = local_file()
        else:
            address = self.address.text().strip()
            if not address:
                self._say("Enter the clinic server's address (your administrator "
                          "gives it), or choose \"This computer only\".", False)
                self.address.setFocus()
                return
            if not self.test_connection():
                return
            self.location = address
        if self.remember:
            try:
                remember_database(self.location)
            except OSError as exc:
                self._say(f"Could not remember the choice: {exc}", False)
                return
        self.accept()


def ask_where(clock: Clock, current: str = "", parent: QWidget | None = None
              ) -> Path | str | None:
    """The chosen database (remembered), or None if the user cancelled."""
    dialog = DatabaseChoiceDialog(clock, current, parent)
    return dialog.location if dialog.exec() else None
