"""The alarm banner of the session screen: every reading outside the alert thresholds
(typed, imported or from a monitor) stays on it until a nurse acknowledges it with the
action taken. A new alarm beeps where the platform can, unless this workstation has the
sound switched off (QSettings, per workstation and OS account)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ketalog.domain.errors import PlausibilityError
from ketalog.services.alarms import PendingAlarm, acknowledge_alarms, live_alarms
from ketalog.services.context import Context
from ketalog.services.errors import ServiceError

SOUND_KEY = "alarms/sound"


def sound_enabled() -> bool:
    return QSettings().value(SOUND_KEY, True, type=bool)  # type: ignore[return-value]


def set_sound_enabled(on: bool) -> None:
    QSettings().setValue(SOUND_KEY, on)


def describe(alarms: list[PendingAlarm]) -> str:
    shown = alarms[-5:]
    lines = [f"{a.text}" + (f"  [{a.source}]" if a.source != "manual" else "") for a in shown]
    if len(alarms) > len(shown):
        lines.insert(0, f"... and {len(alarms) - len(shown)} earlier")
    return "\n".join(lines)


class AlarmBanner(QFrame):
    acknowledged = Signal(int)  # how many

    def __init__(self, ctx: Context, session_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.session_id = ctx, session_id
        self.setObjectName("alarmBanner")
        self.setStyleSheet("#alarmBanner { background: #b00020; } "
                           "#alarmBanner QLabel { color: white; font-weight: bold; }")
        self.title = QLabel()
        self.title.setObjectName("alarmTitle")
        self.title.setStyleSheet("font-size: 15px;")
        self.details = QLabel()
        self.details.setObjectName("alarmDetails")
        self.action = QLineEdit()
        self.action.setObjectName("alarmAction")
        self.action.setPlaceholderText("action taken, e.g. probe repositioned, SpO2 97 %; "
                                       "rate halved")
        self.action.returnPressed.connect(self.acknowledge)
        self.button = QPushButton("Acknowledge")
        self.button.setObjectName("alarmAcknowledge")
        self.button.clicked.connect(self.acknowledge)
        self.error = QLabel()
        self.error.setObjectName("alarmError")
        self.error.setStyleSheet("background: white; color: #b00020; padding: 2px;")
        self.error.hide()
        self.details.setWordWrap(True)
        top = QHBoxLayout()  # two rows, not three: the screen is short at 768 px
        top.addWidget(self.title)
        top.addWidget(self.details, 1)
        row = QHBoxLayout()
        label = QLabel("Action ta&ken:")  # Alt+K: to the box; Enter acknowledges
        label.setBuddy(self.action)
        row.addWidget(label)
        row.addWidget(self.action, 1)
        row.addWidget(self.button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 3, 8, 3)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addLayout(row)
        layout.addWidget(self.error)
        self.pending: list[PendingAlarm] = []
        self._seen: set[int] = set()
        self.beep: Callable[[], None] = QApplication.beep
        self.beeps = 0
        self.hide()

    def refresh(self, may_sound: bool = True) -> None:
        """Pending alarms of a session that still takes entries (a completed or signed
        record is no live patient to act on; its alarms are in the record as flagged)."""
        try:
            self.pending = live_alarms(self.ctx, self.session_id)
        except ServiceError:
            return  # busy (or the login ended); the next refresh tries again
        new = {a.vitals_id for a in self.pending} - self._seen
        self._seen |= new
        if not self.pending:
            self.hide()
            return
        count = len(self.pending)
        self.title.setText(f"⚠ ALARM: {count} reading{'s' if count > 1 else ''} outside the "
                           "alert thresholds:")
        self.details.setText(describe(self.pending))
        self.show()
        if new and may_sound and sound_enabled():
            self.beeps += 1
            self.beep()

    def set_read_only(self, read_only: bool) -> None:
        self.action.setEnabled(not read_only)
        self.button.setEnabled(not read_only)

    def acknowledge(self) -> bool:
        self.error.hide()
        try:
            done = acknowledge_alarms(self.ctx, self.session_id, self.action.text(),
                                      [a.vitals_id for a in self.pending])
        except PlausibilityError as exc:
            self.error.setText("; ".join(p.message for p in exc.problems))
            self.error.show()
            self.action.setFocus()
            return False
        except ServiceError as exc:
            self.error.setText(f"Not acknowledged: {exc}")
            self.error.show()
            return False
        self.action.clear()
        self.refresh(may_sound=False)
        self.acknowledged.emit(done)
        return True
