"""The "when" of an entry: now by default, or an earlier time for a late entry."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QDateTime
from PySide6.QtWidgets import QCheckBox, QDateTimeEdit, QHBoxLayout, QWidget

from ketalog.domain.clock import Clock


class EntryTime(QWidget):
    def __init__(self, clock: Clock, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clock = clock
        self.now_box = QCheckBox("now")
        self.now_box.setObjectName(f"{name}Now")
        self.now_box.setChecked(True)
        self.now_box.setToolTip("Untick to enter an earlier time (stored as a late entry)")
        self.edit = QDateTimeEdit()
        self.edit.setObjectName(f"{name}Time")
        self.edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.edit.setEnabled(False)
        self.edit.hide()  # "now" needs no time shown; a stale placeholder date misleads
        self.now_box.toggled.connect(self._toggled)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.now_box)
        layout.addWidget(self.edit)

    def _toggled(self, checked: bool) -> None:
        self.edit.setEnabled(not checked)
        self.edit.setVisible(not checked)
        if not checked:
            self.edit.setDateTime(QDateTime(self.clock.now().astimezone()))

    def value(self) -> datetime | None:
        """None means now (the service stamps it); otherwise an aware local time."""
        if self.now_box.isChecked():
            return None
        return self.edit.dateTime().toPython().astimezone()  # type: ignore[union-attr]

    def reset(self) -> None:
        self.now_box.setChecked(True)
