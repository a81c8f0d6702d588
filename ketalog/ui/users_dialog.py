"""Admin > Users: who may log in, with which roles; add, reset a password, deactivate or
reactivate, unlock after failed logins. Every button goes through a service that checks
the admin role again and audits the change (with the reason asked here)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ketalog.domain.entities import Role, User
from ketalog.services.auth import (
    MIN_PASSWORD_LENGTH,
    add_user,
    change_own_password,
    list_users,
    set_password,
    unlock,
)
from ketalog.services.context import Context
from ketalog.services.errors import ServiceError
from ketalog.services.users import set_active
from ketalog.ui.feedback import ERROR_COLOUR, error_label, finish_form, password_field
from ketalog.ui.table_models import Index, RowsModel, rows_view

ERRORS = ServiceError
# (title, question) -> the reason typed, or None when cancelled. Tests replace it.
AskReason = Callable[[str, str], str | None]


def ask_reason_dialog(parent: QWidget) -> AskReason:
    def ask(title: str, question: str) -> str | None:
        text, ok = QInputDialog.getText(parent, title, question)
        return text if ok else None
    return ask


class UserRows(RowsModel[User]):
    """Locked accounts in red, deactivated ones grey: the two an admin acts on."""

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and index.isValid():
            user = self.row_at(index.row())
            if user.locked:
                return QColor(ERROR_COLOUR)
            if not user.active:
                return QColor("#777777")
        return super().data(index, role)


def user_model() -> RowsModel[User]:
    return UserRows([
        ("Username", lambda u: u.username),
        ("Name", lambda u: u.display_name),
        ("Credentials", lambda u: u.credentials),
        ("Roles", lambda u: ", ".join(sorted(r.value for r in u.roles))),
        ("Active", lambda u: "yes" if u.active else "NO (deactivated)"),
        ("Locked", lambda u: "LOCKED" if u.locked else "no"),
        ("Failed logins", lambda u: u.failed_logins),
    ])


class UserForm(QDialog):
    """A new account: username, name, credentials, roles, the password twice."""

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.created: User | None = None
        self.setObjectName("userForm")
        self.setWindowTitle("New user")
        self.username = QLineEdit()
        self.username.setObjectName("newUsername")
        self.display_name = QLineEdit()
        self.display_name.setObjectName("newDisplayName")
        self.credentials = QLineEdit()
        self.credentials.setObjectName("newCredentials")
        self.credentials.setPlaceholderText("e.g. RN, MD, CRNA (printed on signatures)")
        self.roles = {role: QCheckBox(role.value) for role in Role}
        for role, box in self.roles.items():
            box.setObjectName(f"role_{role.value}")
        self.roles[Role.NURSE].setChecked(True)
        self.password = password_field("newPassword")
        self.repeat = password_field("newPasswordRepeat")
        self.error = error_label("userFormError")
        role_row = QHBoxLayout()
        for box in self.roles.values():
            role_row.addWidget(box)
        form = QFormLayout()
        form.addRow("&Username", self.username)
        form.addRow("Full &name", self.display_name)
        form.addRow("&Credentials", self.credentials)
        form.addRow("Roles", role_row)
        form.addRow(f"&Password (≥ {MIN_PASSWORD_LENGTH} characters)", self.password)
        form.addRow("&Repeat password", self.repeat)
        finish_form(self, form, self.error, self.save, save=True)
        self.setMinimumWidth(460)

    def _fail(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    def save(self) -> None:
        if self.password.text() != self.repeat.text():
            self._fail("The two passwords differ.")
            return
        roles = [role for role, box in self.roles.items() if box.isChecked()]
        try:
            self.created = add_user(self.ctx, self.username.text(), roles, self.password.text(),
                                    self.display_name.text().strip(),
                                    self.credentials.text().strip())
        except ERRORS as exc:
            self._fail(str(exc))
            return
        self.accept()


class PasswordForm(QDialog):
    """A new password typed twice: an admin's reset of someone's, or (username = the
    logged-in user) one's own change, which asks for the current password first."""

    def __init__(self, ctx: Context, username: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.username = ctx, username
        self.own = username.lower() == ctx.user.username.lower()
        self.setObjectName("passwordForm")
        self.setWindowTitle("Change my password" if self.own
                            else f"Reset the password of {username}")
        self.current = password_field("currentPassword")
        self.password = password_field("resetPassword")
        self.repeat = password_field("resetPasswordRepeat")
        self.error = error_label("passwordFormError")
        form = QFormLayout()
        if self.own:
            form.addRow("&Current password", self.current)
        form.addRow(f"New &password (≥ {MIN_PASSWORD_LENGTH} characters)", self.password)
        form.addRow("&Repeat", self.repeat)
        hint = ("Wrong current passwords count toward the lockout." if self.own
                else "Tell the user the new password in person.")
        finish_form(self, form, self.error, self.save, save=True, header=QLabel(hint))

    def save(self) -> None:
        if self.password.text() != self.repeat.text():
            self.error.setText("The two passwords differ.")
            self.error.show()
            return
        try:
            if self.own:
                change_own_password(self.ctx, self.current.text(), self.password.text())
            else:
                set_password(self.ctx, self.username, self.password.text())
        except ERRORS as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        self.accept()


class UsersDialog(QDialog):
    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.ask_reason: AskReason = ask_reason_dialog(self)
        self.setObjectName("usersDialog")
        self.setWindowTitle("Users")
        self.model = user_model()
        self.view = rows_view(self.model, "userTable", alternate=True)
        self.view.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._enable())
        self.message = error_label("usersMessage", bold=False)
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        for text, slot, name, key in (
                ("&Add user...", self.add, "addUser", "Ctrl+N"),
                ("Reset &password...", self.reset_password, "resetPassword", ""),
                ("&Deactivate...", self.toggle_active, "toggleActive", ""),
                ("&Unlock...", self.unlock_selected, "unlockUser", "Ctrl+U")):
            button = QPushButton(text)
            button.setObjectName(name)
            button.clicked.connect(lambda _c=False, s=slot: s())
            if key:
                QShortcut(QKeySequence(key), self, activated=slot)
                button.setToolTip(key)
            row.addWidget(button)
            self.buttons[name] = button
        row.addStretch(1)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        row.addWidget(close)
        note = QLabel("Accounts are never deleted (records and the audit log name them): "
                      "deactivate instead. Every change here is audited with its reason.")
        note.setWordWrap(True)
        note.setStyleSheet("color: #555;")
        layout = QVBoxLayout(self)
        layout.addWidget(self.view)
        layout.addWidget(note)
        layout.addWidget(self.message)
        layout.addLayout(row)
        self.resize(900, 420)
        self.refresh()

    def refresh(self, select: str | None = None) -> None:
        current = select or (self.selected().username if self.selected() else None)
        try:
            self.model.set_rows(list_users(self.ctx))
        except ERRORS as exc:
            self.say(str(exc))
            return
        names = [u.username for u in self.model.rows()]
        self.view.selectRow(names.index(current) if current in names else 0)
        self._enable()

    def selected(self) -> User | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    def select(self, username: str) -> None:
        names = [u.username for u in self.model.rows()]
        self.view.selectRow(names.index(username))

    def _enable(self) -> None:
        user = self.selected()
        for name in ("resetPassword", "toggleActive", "unlockUser"):
            self.buttons[name].setEnabled(user is not None)
        if user is not None:
            self.buttons["unlockUser"].setEnabled(user.locked or user.failed_logins > 0)
            self.buttons["toggleActive"].setText("Re&activate..." if not user.active
                                                 else "&Deactivate...")

    def say(self, text: str, error: bool = True) -> None:
        self.message.setStyleSheet(f"color: {'#b00020' if error else '#1b5e20'};")
        self.message.setText(text)
        self.message.show()

    # -- actions --------------------------------------------------------------
    def add(self) -> UserForm:
        form = UserForm(self.ctx, self)
        if form.exec() and form.created:
            self.refresh(form.created.username)
            self.say(f"Added {form.created.username}.", error=False)
        return form

    def reset_password(self) -> None:
        user = self.selected()
        if user is not None and PasswordForm(self.ctx, user.username, self).exec():
            self.say(f"Password of {user.username} reset.", error=False)

    def toggle_active(self) -> None:
        user = self.selected()
        if user is None:
            return
        verb = "reactivate" if not user.active else "deactivate"
        reason = self.ask_reason(f"{verb.capitalize()} {user.username}",
                                 f"Why {verb} {user.username}? (kept in the audit log)")
        if reason is None:
            return
        try:
            set_active(self.ctx, user.username, not user.active, reason)
        except ERRORS as exc:
            self.say(str(exc))
            return
        self.refresh(user.username)
        self.say(f"{user.username} {verb}d.", error=False)

    def unlock_selected(self) -> None:
        user = self.selected()
        if user is None:
            return
        reason = self.ask_reason(f"Unlock {user.username}",
                                 f"Why unlock {user.username}? Say how you checked it is "
                                 "really them (kept in the audit log).")
        if reason is None:
            return
        try:
            unlock(self.ctx, user.username, reason)
        except ERRORS as exc:
            self.say(str(exc))
            return
        self.refresh(user.username)
        self.say(f"{user.username} unlocked.", error=False)
