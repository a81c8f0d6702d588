"""The start-up integrity check, off the GUI thread: SQLite's quick_check reads every
page (about 4 s on a ten-year file), so the window opens without it and a worker
connection runs it once the main window shows, then once a day. A problem turns on a
red banner that says what was found and what to do; the result is logged either way."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

from ketalog.services.database import Database
from ketalog.services.system import integrity_problems
from ketalog.ui.tasks import TaskRunner

log = logging.getLogger(__name__)
DAILY_MS = 24 * 3600 * 1000


def run_check(store: Database) -> list[str]:
    """quick_check off the GUI thread (services.system.integrity_problems)."""
    return integrity_problems(store)


def banner_text(problems: list[str]) -> str:
    shown = "; ".join(problems[:3]) + (f" (and {len(problems) - 3} more)" if len(problems) > 3
                                       else "")
    return ("DATABASE DAMAGE FOUND by the integrity check (SQLite quick_check): " + shown +
            ". What is saved now may not be readable later: finish the entry in hand, ask "
            "an admin to run `ketalog verify` and restore the newest verified backup "
            "(Admin > Restore).")


class IntegrityWatch(QObject):
    """Runs the check on the task runner; `show(problems)` is called on the GUI thread."""

    def __init__(self, store_getter: Callable[[], Database | None],
                 show: Callable[[list[str]], None], tasks: TaskRunner | None = None) -> None:
        super().__init__()
        self.store_getter, self.show = store_getter, show
        self.tasks = tasks or TaskRunner(self)
        self.running = False
        self.timer = QTimer(self)
        self.timer.setObjectName("integrityTimer")
        self.timer.timeout.connect(self.start)
        self.timer.start(DAILY_MS)

    def start(self) -> None:
        store = self.store_getter()
        if store is None or self.running:
            return
        self.running = True
        self.tasks.run(lambda: run_check(store), self._done)

    def _done(self, problems: list[str]) -> None:
        self.running = False
        if problems:
            log.error("integrity check found problems: %s", problems)
        else:
            log.info("integrity check: ok")
        self.show(problems)
