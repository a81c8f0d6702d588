"""Background work for the GUI, one way: a thread pool runs the work, and its result,
failure and progress come back to the GUI thread as queued Qt signals (the shape of
Anki's run_in_background / run_on_main). No polling timers, no nested event loops.

The work itself never touches a widget or the GUI's store connection (SQLite's
connection belongs to the thread that opened it): it gets its data gathered beforehand,
or opens a connection of its own. The runner is owned by the app controller and handed
to the windows that need it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal

log = logging.getLogger(__name__)

R = TypeVar("R")
Progress = Callable[[str, int, int], None]  # (phase, done, total), callable from any thread


class TaskRunner(QObject):
    """Runs callables on worker threads; delivers their outcome on the GUI thread."""

    # Always queued, so outcomes arrive in the order they were emitted: a future that is
    # already done when its callback is added calls it on the GUI thread at once, and a
    # direct delivery there would overtake the progress reports still queued before it.
    _finished = Signal(object)
    _progressed = Signal(object)

    def __init__(self, parent: QObject | None = None, workers: int = 2) -> None:
        super().__init__(parent)
        self.setObjectName("taskRunner")
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ketalog-task")
        self._finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._progressed.connect(self._report, Qt.ConnectionType.QueuedConnection)
        self.running = 0

    def run(self, work: Callable[[], R], done: Callable[[R], None],
            failed: Callable[[BaseException], None] | None = None,
            owner: QObject | None = None) -> Future[R]:
        """`work()` on a worker; then `done(result)` or `failed(error)` on the GUI thread.
        Without `failed`, an error is logged (the caller said nothing can go wrong). With
        an `owner` (the window that asked), the outcome is dropped, and logged, when that
        window was closed and deleted meanwhile: its callbacks would touch dead widgets."""
        self.running += 1
        future = self._pool.submit(work)
        future.add_done_callback(lambda f: self._finished.emit((f, done, failed, owner)))
        return future

    def progress(self, on_gui: Progress) -> Progress:
        """A progress callback for the work to call from its thread; `on_gui` gets each
        report on the GUI thread."""
        def report(phase: str, done: int, total: int) -> None:
            self._progressed.emit((on_gui, phase, done, total))

        return report

    def _deliver(self, item: tuple[Future[Any], Callable[[Any], None],
                                   Callable[[BaseException], None] | None,
                                   QObject | None]) -> None:
        future, done, failed, owner = item
        self.running -= 1
        error = future.exception()
        if owner is not None and not shiboken6.isValid(owner):
            log.info("background task ended after its window closed: %s",
                     error or "done")
        elif error is None:
            done(future.result())
        elif failed is not None:
            failed(error)
        else:
            log.error("background task failed: %s", error, exc_info=error)

    @staticmethod
    def _report(item: tuple[Progress, str, int, int]) -> None:
        on_gui, phase, done, total = item
        on_gui(phase, done, total)

    def shutdown(self) -> None:
        """Wait for work already running (a backup's copy, a PDF) and stop the threads."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def tasks_of(widget: QObject | None) -> TaskRunner:
    """The runner of the window `widget` sits in: the nearest ancestor holding one as
    `.tasks` (the app controller hands its runner to the windows it opens). A window
    built on its own (a test, a dialog without a parent) gets a runner of its own."""
    node = widget
    while node is not None:
        runner = getattr(node, "tasks", None)
        if isinstance(runner, TaskRunner):
            return runner
        node = node.parent()
    own = TaskRunner(widget)
    if widget is not None:
        widget.tasks = own  # type: ignore[attr-defined]  # found by its children next time
    return own
