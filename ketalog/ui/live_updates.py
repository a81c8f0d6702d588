"""The open windows follow the clinic server: a change committed on another workstation
reaches this one's Today board, patient list and session windows within a second.

A `QSocketNotifier` watches the socket of the login's change subscription
(services/live_changes.py), so nothing polls and no thread waits: when the server sends
a notification the socket turns readable, the changes are taken and each open window is
refreshed through the method it already has (`MainWindow.refresh_board`,
`SessionWindow.poll_device_vitals`, `reload_without_vitals`, `reload`). On a local file
the subscription has no socket and nothing here runs."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QObject, QSocketNotifier, QTimer
from PySide6.QtWidgets import QWidget

from ketalog.services.context import Context
from ketalog.services.errors import ServiceError
from ketalog.services.live_changes import (
    SESSION_TABLES,
    Change,
    Subscription,
    close_subscription,
    subscribe,
    take_changes,
)

if TYPE_CHECKING:
    from ketalog.ui.main_window import MainWindow

log = logging.getLogger(__name__)

# Changes that show on the Today board, the signature queue or the planned list.
BOARD_TABLES = frozenset({"sessions", "vitals", "dose_events", "acknowledgements",
                          "signatures", "treatment_series", "patients"})
PATIENT_TABLES = frozenset({"patients", "allergies"})
COALESCE_MS = 50  # a burst of changes (a device's readings, a bulk import): one refresh
RECONNECT_MS = 10_000  # the server went away: listen again, then catch up


class LiveUpdates(QObject):
    """Dispatches the server's changes to the windows the app controller has open."""

    def __init__(self, main: Callable[[], MainWindow | None],
                 sessions: Callable[[], Mapping[int, QWidget]],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("liveUpdates")
        self._main, self._sessions = main, sessions
        self.ctx: Context | None = None
        self.subscription: Subscription | None = None
        self.notifier: QSocketNotifier | None = None
        self.missed = False  # changes arrived for hidden (locked) windows
        self.received = 0  # changes taken since start (tests, diagnostics)
        self._pending: list[Change] = []
        self._flush = QTimer(self)
        self._flush.setSingleShot(True)
        self._flush.setInterval(COALESCE_MS)
        self._flush.timeout.connect(self.flush)

    # -- the subscription ------------------------------------------------------
    def start(self, ctx: Context) -> bool:
        """Listen for `ctx`'s clinic server; False on a local file (nothing to follow) or
        when the server refused (logged; the windows' own timers still refresh them)."""
        self.stop()
        self.ctx = ctx
        try:
            self.subscription = subscribe(ctx)
        except ServiceError as exc:
            log.warning("live updates unavailable: %s", exc)
            self._retry_later()
            return False
        fileno = self.subscription.fileno
        if fileno is None:
            return False
        self.notifier = QSocketNotifier(fileno, QSocketNotifier.Type.Read, self)
        self.notifier.activated.connect(self._readable)
        return True

    def stop(self) -> None:
        if self.notifier is not None:
            self.notifier.setEnabled(False)
            self.notifier.deleteLater()
            self.notifier = None
        if self.subscription is not None:
            try:
                close_subscription(self.subscription)
            except ServiceError as exc:
                log.info("closing the change feed: %s", exc)
            self.subscription = None
        self._pending.clear()
        self._flush.stop()
        self.ctx = None

    def _retry_later(self) -> None:
        ctx = self.ctx

        def again() -> None:
            if self.ctx is ctx and ctx is not None and self.subscription is None:
                if self.start(ctx):
                    self.dispatch([Change("", "", None, None, None, 0, "", "",
                                          everything=True)])

        QTimer.singleShot(RECONNECT_MS, self, again)

    def _readable(self) -> None:
        if self.subscription is None:
            return
        try:
            changes = take_changes(self.subscription)
        except ServiceError as exc:
            log.warning("live updates stopped: %s", exc)
            ctx = self.ctx
            self.stop()
            self.ctx = ctx
            self._retry_later()
            return
        if changes:
            self.received += len(changes)
            self._pending += changes
            if not self._flush.isActive():
                self._flush.start()

    def catch_up(self) -> None:
        """The windows are shown again (after an idle lock): what they missed."""
        if self.missed:
            self.missed = False
            self.dispatch([Change("", "", None, None, None, 0, "", "", everything=True)])

    # -- dispatch ---------------------------------------------------------------
    def flush(self) -> None:
        changes, self._pending = self._pending, []
        if changes:
            self.dispatch(changes)

    def dispatch(self, changes: Iterable[Change]) -> None:
        """Refresh each open window the changes touch, once per window."""
        changes = list(changes)
        everything = any(c.everything for c in changes)
        tables = {c.table for c in changes}
        main = self._main()
        if main is not None and shiboken6.isValid(main):
            if not main.isVisible():
                self.missed = True
            else:
                self._guarded(main.refresh_board, everything or bool(tables & BOARD_TABLES))
                self._guarded(lambda: keep_selection(main), everything or bool(
                    tables & PATIENT_TABLES))
        for session_id, window in list(self._sessions().items()):
            if not shiboken6.isValid(window):
                continue
            mine = [c for c in changes if c.everything or (
                c.table in SESSION_TABLES and c.session_id in (None, session_id))]
            if not mine:
                continue
            if not window.isVisible():
                self.missed = True
                continue
            self._guarded(functools.partial(refresh_session_window, window, mine), True)

    @staticmethod
    def _guarded(refresh: Callable[[], object], wanted: bool) -> None:
        if not wanted:
            return
        try:
            refresh()
        except ServiceError as exc:  # busy or gone: the next change or timer tries again
            log.info("live refresh skipped: %s", exc)


def keep_selection(main: MainWindow) -> None:
    """The patient list re-read with its search, the selected patient still selected."""
    row = main.selected_patient_row()
    chosen = main.patients.row_at(row).id if row is not None else None
    main.refresh_patients()
    for n, patient in enumerate(main.patients.rows()):
        if patient.id == chosen:
            main.patient_view.selectRow(n)
            break


def refresh_session_window(window: QWidget, changes: list[Change]) -> None:
    """The cheapest refresh that shows `changes` in an open session window: new readings
    are appended (as the monitor feed's are), a marked artifact re-reads the vitals,
    anything else the record without its vitals."""
    from ketalog.ui.session_window import SessionWindow

    if not isinstance(window, SessionWindow):
        return
    if any(c.everything or (c.table == "vitals" and c.action != "insert") for c in changes):
        window.reload()
        return
    if any(c.table == "vitals" for c in changes):
        window.poll_device_vitals()
    if any(c.table != "vitals" for c in changes):
        window.reload_without_vitals()
    if any(c.table == "acknowledgements" for c in changes):
        window.alarm_banner.refresh(may_sound=False)
