"""How refusals look on every form: one colour, one field style, one error label."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

ERROR_COLOUR = "#b00020"
ERROR_STYLE = f"border: 2px solid {ERROR_COLOUR}; background: #fff0f0;"


def error_label(name: str, bold: bool = True) -> QLabel:
    """A hidden label for a refusal; plain text, since messages quote what was typed."""
    label = QLabel()
    label.setObjectName(name)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setStyleSheet(f"color: {ERROR_COLOUR};" + (" font-weight: bold;" if bold else ""))
    label.setWordWrap(True)
    label.hide()
    return label


def password_field(name: str, text: str = "") -> QLineEdit:
    """A line edit that hides what is typed (passwords and passphrases)."""
    field = QLineEdit(text)
    field.setObjectName(name)
    field.setEchoMode(QLineEdit.EchoMode.Password)
    return field


def finish_form(dialog: QDialog, form: QFormLayout, error: QLabel, on_ok: Callable[[], object],
                *, ok_text: str = "", save: bool = False, header: QWidget | None = None
                ) -> QDialogButtonBox:
    """The tail every form dialog shares: an optional header, the form, its refusal label
    and OK (or Save) / Cancel; OK runs `on_ok`, which accepts the dialog when it may."""
    ok = QDialogButtonBox.StandardButton.Save if save else QDialogButtonBox.StandardButton.Ok
    buttons = QDialogButtonBox(ok | QDialogButtonBox.StandardButton.Cancel)
    if ok_text:
        buttons.button(ok).setText(ok_text)
    buttons.accepted.connect(lambda: on_ok())
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    if header is not None:
        layout.addWidget(header)
    layout.addLayout(form)
    layout.addWidget(error)
    layout.addWidget(buttons)
    return buttons
