"""Opening the database at GUI start-up: a passphrase prompt before login when the file
is encrypted, and a recovery dialog (never a traceback) when the file is damaged, is
not a ketalog database or was written by a newer ketalog. The recovery dialog offers
the newest backup that verifies; the restore is authorised by an admin of that backup
(services/recovery.py says why) and audited in the restored file."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ketalog.domain.clock import Clock
from ketalog.paths import backup_dir
from ketalog.services.database import (
    Database,
    is_server_address,
    open_database_file,
    open_server_database,
    safe_location,
)
from ketalog.services.errors import (
    CannotOpenDatabase,
    NewerDatabase,
    PassphraseNeeded,
    PassphraseRefused,
    ServiceError,
    StoreFailed,
)
from ketalog.services.recovery import Candidate, examine, newest_usable, restore_at_startup
from ketalog.ui.feedback import password_field

log = logging.getLogger("ketalog.startup")
ERRORS = (ServiceError, OSError)


class PassphraseDialog(QDialog):
    """Before login: the clinic passphrase of an encrypted database."""

    def __init__(self, db_path: Path, message: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("passphraseDialog")
        self.setWindowTitle("ketalog: encrypted database")
        self.passphrase: str | None = None
        self.wants_restore = False
        layout = QVBoxLayout(self)
        intro = QLabel(f"{db_path} is encrypted (or it is not a ketalog database).\n"
                       "Enter the clinic's database passphrase to open it.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.field = password_field("passphrase")
        self.field.returnPressed.connect(self.accept_passphrase)
        layout.addWidget(self.field)
        self.error = QLabel(message)
        self.error.setObjectName("passphraseError")
        self.error.setStyleSheet("color: #b00020; font-weight: bold;")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        buttons = QDialogButtonBox()
        buttons.addButton("Open", QDialogButtonBox.ButtonRole.AcceptRole)
        restore = buttons.addButton("Restore from a backup...",
                                    QDialogButtonBox.ButtonRole.ActionRole)
        restore.setObjectName("restoreInstead")
        restore.clicked.connect(self.restore_instead)
        buttons.addButton("Quit", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept_passphrase)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def accept_passphrase(self) -> None:
        if not self.field.text():
            self.error.setText("Enter the passphrase.")
            return
        self.passphrase = self.field.text()
        self.accept()

    def restore_instead(self) -> None:
        self.passphrase = self.field.text() or None
        self.wants_restore = True
        self.accept()


class RecoveryDialog(QDialog):
    """The database cannot be opened: say why and offer the newest verified backup."""

    def __init__(self, db_path: Path, clock: Clock, problem: str, *, newer: bool = False,
                 passphrase: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("recoveryDialog")
        self.setWindowTitle("ketalog: the database cannot be opened")
        self.db_path, self.clock, self.problem = db_path, clock, problem
        self.store: Database | None = None
        self.candidate: Candidate | None = None
        layout = QVBoxLayout(self)
        text = QLabel(problem)
        text.setObjectName("recoveryProblem")
        text.setStyleSheet("font-weight: bold;")
        text.setWordWrap(True)
        layout.addWidget(text)
        advice = QLabel(
            "Install the newer ketalog to open it. Restoring a backup instead loses "
            "everything recorded since the backup was taken." if newer else
            "Nothing has been changed. An admin can restore the newest backup that checks "
            "sound; the damaged file is kept beside it for investigation.")
        advice.setWordWrap(True)
        layout.addWidget(advice)
        self.backup_label = QLabel()
        self.backup_label.setObjectName("recoveryBackup")
        self.backup_label.setWordWrap(True)
        layout.addWidget(self.backup_label)
        other = QPushButton("Choose another backup file...")
        other.clicked.connect(self.choose_file)
        layout.addWidget(other)
        form = QFormLayout()
        self.username = QLineEdit()
        self.username.setObjectName("recoveryUsername")
        self.password = password_field("recoveryPassword")
        self.passphrase = password_field("recoveryPassphrase", passphrase or "")
        form.addRow("Admin (of the backup)", self.username)
        form.addRow("Password", self.password)
        form.addRow("Backup passphrase", self.passphrase)
        layout.addLayout(form)
        self.error = QLabel()
        self.error.setObjectName("recoveryError")
        self.error.setStyleSheet("color: #b00020; font-weight: bold;")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        buttons = QDialogButtonBox()
        self.restore_button = buttons.addButton("Restore this backup",
                                                QDialogButtonBox.ButtonRole.AcceptRole)
        self.restore_button.setObjectName("recoveryRestore")
        buttons.addButton("Quit", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.restore)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.show_candidate(newest_usable(backup_dir(db_path), db_path, passphrase))

    def show_candidate(self, candidate: Candidate | None) -> None:
        self.candidate = candidate
        self.restore_button.setEnabled(candidate is not None and not candidate.problem)
        self.passphrase.setEnabled(candidate is not None and candidate.encrypted)
        self.backup_label.setText(
            "Newest backup: " + candidate.describe() if candidate is not None else
            f"No usable backup in {backup_dir(self.db_path)}. Choose a backup file "
            "(for example from the clinic's off-site copy).")

    def choose_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Backup to restore",
                                              str(backup_dir(self.db_path)),
                                              "ketalog backups (*.sqlite);;All files (*)")
        if name:
            self.show_candidate(examine(Path(name), self.passphrase.text() or None))

    def restore(self) -> None:
        if self.candidate is None:
            return
        key = self.passphrase.text() or None if self.candidate.encrypted else None
        try:
            report, self.store = restore_at_startup(
                self.candidate.path, self.db_path, self.clock, self.username.text(),
                self.password.text(), self.problem, key)
        except ERRORS as exc:
            self.error.setText(f"Not restored: {exc}")
            return
        kept = f" The damaged file is kept at {report.replaced_copy}." \
            if report.replaced_copy else ""
        self.error.setStyleSheet("color: #1b5e20; font-weight: bold;")
        self.error.setText(f"Restored from {self.candidate.path.name}.{kept}")
        log.warning("restored %s from %s at start-up", self.db_path, self.candidate.path)
        self.accept()


def open_database(db_path: Path | str, clock: Clock, parent: QWidget | None = None,
                  passphrase_dialog: type[PassphraseDialog] = PassphraseDialog,
                  recovery_dialog: type[RecoveryDialog] = RecoveryDialog) -> Database | None:
    """The store, after any passphrase prompt or restore; None if the user gave up.
    `db_path` may be a clinic server's address: see `open_server`."""
    if is_server_address(db_path):
        return open_server(str(db_path), clock, parent)
    db_path = Path(db_path)
    passphrase: str | None = None
    while True:
        try:
            # quick_check runs after the window shows (ui/integrity_watch.py)
            return open_database_file(db_path, clock, passphrase=passphrase, quick_check=False)
        except (PassphraseNeeded, PassphraseRefused) as exc:
            log.info("database needs a passphrase: %s", exc)
            message = "" if passphrase is None else \
                "That passphrase did not open the database (or the file is damaged)."
            ask = passphrase_dialog(db_path, message, parent)
            if not ask.exec():
                return None
            if ask.wants_restore:
                return _recover(db_path, clock, str(exc), False, ask.passphrase, parent,
                                recovery_dialog)
            passphrase = ask.passphrase
        except CannotOpenDatabase as exc:
            log.error("cannot open %s: %s", db_path, exc)
            return _recover(db_path, clock, str(exc), isinstance(exc, NewerDatabase),
                            passphrase, parent, recovery_dialog)
        except StoreFailed as exc:
            log.error("cannot open %s: %s", db_path, exc)
            QMessageBox.critical(parent, "ketalog: cannot open the database", str(exc))
            return None


def open_server(conninfo: str, clock: Clock, parent: QWidget | None = None
                ) -> Database | None:
    """The clinic server's database, or None after saying why it cannot be opened (not
    reachable, not set up, a schema this ketalog does not know). No passphrase and no
    restore at a workstation: the server's administrator fixes the server."""
    try:
        return open_server_database(conninfo, clock)
    except ServiceError as exc:
        log.error("cannot open %s: %s", safe_location(conninfo), exc)
        advice = ("Install that version of ketalog on this workstation." if
                  isinstance(exc, NewerDatabase) else
                  "Ask the clinic's administrator to check the server (docs/server.md).")
        QMessageBox.critical(parent, "ketalog: cannot open the clinic server",
                             f"{exc}\n\n{advice}")
        return None


def _recover(db_path: Path, clock: Clock, problem: str, newer: bool, passphrase: str | None,
             parent: QWidget | None, dialog_class: type[RecoveryDialog]) -> Database | None:
    dialog = dialog_class(db_path, clock, problem, newer=newer, passphrase=passphrase,
                          parent=parent)
    if dialog.exec() and dialog.store is not None:
        return dialog.store
    return None
