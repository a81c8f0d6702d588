"""The "when" of an entry: now by default, or an earlier time for a late entry. The time
typed is the minute stored (seconds 0), and Enter in the time box records the entry."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QDateTime, QEvent, QObject, Qt, QTime, Signal
from PySide6.QtWidgets import QCheckBox, QDateTimeEdit, QHBoxLayout, QWidget

from ketalog.domain.clock import Clock


class EntryTime(QWidget):
    submitted = Signal()  # Enter in the time box: record, as Enter in a value box does

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
        self.edit.installEventFilter(self)
        self.now_box.toggled.connect(self._toggled)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.now_box)
        layout.addWidget(self.edit)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if (watched is self.edit and event.type() == QEvent.Type.KeyPress
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)):  # type: ignore[attr-defined]
            self.submitted.emit()
            return True
        return super().eventFilter(watched, event)

    def _toggled(self, checked: bool) -> None:
        self.edit.setEnabled(not checked)
        self.edit.setVisible(not checked)
        if not checked:
            now = QDateTime(self.clock.now().astimezone())
            now.setTime(QTime(now.time().hour(), now.time().minute()))  # the minute shown
            self.edit.setDateTime(now)
            self.edit.setFocus()

    def value(self) -> datetime | None:
        """None means now (the service stamps it); otherwise the minute shown, as an aware
        local time with seconds 0 (what was typed, not the seconds of the moment)."""
        if self.now_box.isChecked():
            return None
        typed = self.edit.dateTime().toPython()  # type: ignore[union-attr]
        return typed.replace(second=0, microsecond=0).astimezone()

    def reset(self) -> None:
        self.now_box.setChecked(True)
