"""Live changes: what other workstations of a clinic server changed, so the open screens
(the Today board, a session window, the patient list) follow within a second.

A front end subscribes once per login, watches the subscription's socket with its own
event loop (`fileno`; no polling) and takes the changes when it is readable. A change
names a table, the session and patient where the write says, and who made it; the screen
re-reads through the usual services, so nobody sees a row they may not read. On a local
file there are no other workstations: the subscription has no socket and never yields
anything, so the screens keep their local behaviour with the same code."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ketalog.services.context import Context
from ketalog.services.errors import service_boundary
from ketalog.store.changes import Change

if TYPE_CHECKING:
    from ketalog.store.pg_changes import ChangeFeed

__all__ = ["SESSION_TABLES", "Change", "Subscription", "close_subscription", "subscribe",
           "take_changes"]

# Tables whose rows show in a session window (a change there reloads the window).
SESSION_TABLES = frozenset({
    "sessions", "vitals", "dose_events", "adjunct_medications", "scores", "side_effects",
    "notes", "signatures", "addenda", "acknowledgements", "follow_ups", "stock_movements"})


class Subscription:
    """One login's feed of changes; `fileno` is None where nothing can arrive."""

    def __init__(self, feed: ChangeFeed | None) -> None:
        self._feed = feed

    @property
    def fileno(self) -> int | None:
        return None if self._feed is None else self._feed.fileno()

    @property
    def live(self) -> bool:
        return self._feed is not None


@service_boundary
def subscribe(ctx: Context) -> Subscription:
    """A feed of the clinic server's committed changes (nothing on a local file)."""
    if not ctx.store.on_server:
        return Subscription(None)
    from ketalog.store.pg_changes import open_feed  # psycopg only where a server is used

    return Subscription(open_feed(ctx.store))


@service_boundary
def take_changes(subscription: Subscription, *, own: bool = False) -> list[Change]:
    """The changes that have arrived, without waiting; this workstation's own writes
    (already on its screens) only when `own` is asked for."""
    feed = subscription._feed
    if feed is None:
        return []
    return [c for c in feed.take() if own or not c.own]


@service_boundary
def wait_for_changes(subscription: Subscription, timeout_s: float, *,
                     own: bool = False) -> list[Change]:
    """The next changes, waiting up to `timeout_s` (a command line or script's loop)."""
    feed = subscription._feed
    if feed is None:
        return []
    return [c for c in feed.wait(timeout_s) if own or not c.own]


@service_boundary
def close_subscription(subscription: Subscription) -> None:
    feed, subscription._feed = subscription._feed, None
    if feed is not None:
        feed.close()
