"""Backups in the GUI: settings (admin), and Restore with a preview of what the chosen
backup holds and the admin's password again before the database is replaced."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ketalog.domain.errors import PlausibilityError
from ketalog.services.auth import reauthenticate
from ketalog.services.backups import (
    anchor_folder_setting,
    backup_every_hours,
    backup_folder,
    list_backups,
    preview_backup,
    set_backup_settings,
)
from ketalog.services.context import Context
from ketalog.services.errors import ServiceError
from ketalog.ui.feedback import password_field

ERRORS = (PlausibilityError, ServiceError, OSError)


class BackupSettingsDialog(QDialog):
    def __init__(self, ctx: Context, default_folder: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Backup settings")
        self.folder = QLineEdit(str(backup_folder(ctx.store, default_folder)))
        browse = QPushButton("Browse...")
        browse.clicked.connect(self._browse)
        self.every = QDoubleSpinBox()
        self.every.setRange(0, 168)
        self.every.setDecimals(1)
        self.every.setSuffix(" h (0 = only on close)")
        self.every.setValue(backup_every_hours(ctx.store))
        self.anchors = QLineEdit(anchor_folder_setting(ctx.store))
        self.anchors.setObjectName("anchorFolder")
        self.anchors.setPlaceholderText("beside the backups")
        self.anchors.setToolTip("Where the audit anchor log is written (the chain's head at "
                                "every login, signature, backup and export). Another disk "
                                "keeps it out of reach of whoever has the database.")
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020;")
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Backup folder", row)
        form.addRow("Also back up every", self.every)
        form.addRow("Audit anchor log folder", self.anchors)
        hint = QLabel("A backup is always taken when ketalog closes. Keep a copy off site: "
                      "a mounted drive here, or copy this folder elsewhere regularly.")
        hint.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Backup folder", self.folder.text())
        if chosen:
            self.folder.setText(chosen)

    def save(self) -> None:
        try:
            Path(self.folder.text()).expanduser().mkdir(parents=True, exist_ok=True)
            if self.anchors.text().strip():
                Path(self.anchors.text()).expanduser().mkdir(parents=True, exist_ok=True)
            set_backup_settings(self.ctx, self.folder.text(), self.every.value(),
                                self.anchors.text())
        except ERRORS as exc:
            self.error.setText(str(exc))
            return
        self.accept()


class RestoreDialog(QDialog):
    """Pick a backup, see what it holds, confirm with the password. The caller performs
    the restore (it must close every window and the database first)."""

    def __init__(self, ctx: Context, folder: Path, db_path: Path,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.chosen: Path | None = None
        self.setObjectName("restoreDialog")
        self.setWindowTitle("Restore from a backup")
        self.list = QListWidget()
        for b in list_backups(folder, db_path):
            item = QListWidgetItem(f"{b.taken_at.astimezone():%Y-%m-%d %H:%M}   "
                                   f"{b.size_bytes / 1e6:.1f} MB   {b.path.name}")
            item.setData(Qt.ItemDataRole.UserRole, str(b.path))
            self.list.addItem(item)
        self.list.currentItemChanged.connect(lambda item, _old: self.preview(
            Path(item.data(Qt.ItemDataRole.UserRole)) if item else None))
        other = QPushButton("Other file...")
        other.clicked.connect(self._other)
        self.details = QLabel("Choose a backup to see what it holds.")
        self.details.setObjectName("restorePreview")
        self.details.setWordWrap(True)
        self.password = password_field("restorePassword")
        self.password.setPlaceholderText("your password, to confirm")
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020;")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.restore_button = buttons.addButton("Restore",
                                                QDialogButtonBox.ButtonRole.AcceptRole)
        self.restore_button.setEnabled(False)
        buttons.accepted.connect(self.confirm)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Backups in {folder}:"))
        layout.addWidget(self.list)
        layout.addWidget(other)
        layout.addWidget(self.details)
        layout.addWidget(QLabel("The current database is kept aside as "
                                "<name>.replaced-<time> before it is replaced; everyone is "
                                "logged out."))
        layout.addWidget(self.password)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(620, 460)

    def _other(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Backup file", "",
                                              "ketalog backups (*.sqlite);;All files (*)")
        if name:
            self.preview(Path(name))

    def preview(self, path: Path | None) -> None:
        self.chosen = None
        self.restore_button.setEnabled(False)
        if path is None:
            return
        try:
            p = preview_backup(path, self.ctx.store.passphrase)
        except ERRORS as exc:
            self.details.setText(f"Cannot restore {path.name}: {exc}")
            return
        taken = f"{p.taken_at.astimezone():%Y-%m-%d %H:%M}" if p.taken_at else "unknown time"
        self.details.setText(f"{path.name}: taken {taken}, {p.size_bytes / 1e6:.1f} MB, "
                             f"checked sound. It holds {p.patients} patients, {p.sessions} "
                             f"sessions, {p.signatures} signatures, {p.vitals} vitals.")
        self.chosen = path
        self.restore_button.setEnabled(True)

    def confirm(self) -> None:
        if self.chosen is None:
            return
        try:
            reauthenticate(self.ctx, self.password.text(), "restore")
        except ERRORS as exc:
            self.error.setText(str(exc))
            return
        self.accept()
