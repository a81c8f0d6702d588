"""Idle auto-logoff: any keyboard or mouse input restarts the countdown; when it runs
out the app locks (windows hidden, never closed, so nothing typed is lost)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer

from ketalog.domain.clock import Clock, SystemClock

INPUT_EVENTS = frozenset({
    QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove,
    QEvent.Type.Wheel, QEvent.Type.TouchBegin,
})


class IdleWatcher(QObject):
    def __init__(self, minutes: float, on_idle: Callable[[], None],
                 parent: QObject | None = None, clock: Clock | None = None) -> None:
        super().__init__(parent)
        self.on_idle = on_idle
        self.clock: Clock = clock or SystemClock()
        self.last_input = self.clock.now()  # services.logoff checks it against the Clock
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self._fire)
        self.set_minutes(minutes)
        self.paused = False

    def set_minutes(self, minutes: float) -> None:
        self.timer.setInterval(max(1, int(minutes * 60_000)))
        self.poke()

    def poke(self) -> None:
        if hasattr(self, "clock"):
            self.last_input = self.clock.now()
        if not getattr(self, "paused", False):
            self.timer.start()

    def pause(self) -> None:
        self.paused = True
        self.timer.stop()

    def resume(self) -> None:
        self.paused = False
        self.timer.start()

    def _fire(self) -> None:
        if not self.paused:
            self.on_idle()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() in INPUT_EVENTS:
            self.poke()
        return False
