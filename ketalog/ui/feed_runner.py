"""The monitor feed inside the app: the listener runs on background threads with its own
store connection (it never touches a widget), one per running app (the app controller owns it), surviving logouts and
started at login when the clinic has switched it on. Light to import: the listener (and
python-hl7) load on first start, not at GUI start-up."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from ketalog.services.context import Context
from ketalog.services.database import Database
from ketalog.services.device_feed_settings import FeedSettings, feed_settings, quarantine_count
from ketalog.services.errors import StoreFailed

if TYPE_CHECKING:
    from ketalog.services.device_listener import Hl7Listener

log = logging.getLogger(__name__)


SERVER_FEED = ("on a clinic server the monitor feed runs once for the whole clinic, on the "
               "server machine (`ketalog listen-hl7 --db postgresql://...`, see "
               "docs/server.md), not in each workstation's app")


class FeedRunner:
    """Starts and stops the app's one listener. On a clinic server (`on_server`) it never
    starts one: the server machine runs the clinic's feed."""

    def __init__(self, on_server: bool = False) -> None:
        self.listener: Hl7Listener | None = None
        self.on_server = on_server
        self.error = SERVER_FEED if on_server else ""

    @property
    def running(self) -> bool:
        return self.listener is not None and self.listener.running

    def start(self, db_path: Path | str, settings: FeedSettings, ctx: Context) -> bool:
        """The listener's own connection opens the file as the GUI's did (an encrypted
        file with the store's passphrase), attributed to the logged-in user."""
        if self.on_server:
            self.error = SERVER_FEED
            log.info("monitor feed not started here: %s", SERVER_FEED)
            return False
        from ketalog.services.device_listener import Hl7Listener  # python-hl7 on first use

        self.stop()
        listener = Hl7Listener(db_path, settings.host, settings.port, started_by=ctx.actor,
                               passphrase=ctx.store.passphrase)
        try:
            listener.start()
        except (OSError, StoreFailed) as exc:
            self.error = f"cannot listen on {settings.host}:{settings.port}: " \
                         f"{getattr(exc, 'strerror', None) or exc}"
            log.warning("monitor feed: %s", self.error)
            return False
        self.listener, self.error = listener, ""
        return True

    def start_if_enabled(self, db_path: Path | str, ctx: Context) -> None:
        if self.on_server:
            return
        settings = feed_settings(ctx)
        if settings.enabled and not self.running:
            self.start(db_path, settings, ctx)

    def stop(self) -> None:
        if self.listener is not None:
            self.listener.stop()
            self.listener = None

    def status(self) -> str:
        if self.listener is None or not self.running:
            return f"Stopped. {self.error}".strip()
        host, port = self.listener.address
        s = self.listener.stats
        return (f"Listening on {host}:{port} — {s.accepted} stored, {s.refused} refused or "
                f"quarantined, {s.connections} connection(s)")


def feed_status_line(store: Database, runner: FeedRunner) -> str:
    """For the main window's status bar: is the feed on, and is anything waiting."""
    waiting = quarantine_count(store)
    parts = []
    if runner.running and runner.listener is not None:
        parts.append(f"Monitor feed on :{runner.listener.address[1]}")
    if waiting:
        parts.append(f"{waiting} monitor message(s) in quarantine (Patient > Monitor quarantine)")
    return "  ·  ".join(parts)
