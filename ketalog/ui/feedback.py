"""How refusals look on every form: one colour, one field style, one error label."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

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
