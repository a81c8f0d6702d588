"""The clinic's monitor-feed setting: whether the app starts the HL7 listener when it
opens, and on which address. Admins change it (audited); the CLI can override it.
Logged-in users read it with their Context; the CLI's `listen-hl7`, which starts the
listener with nobody logged in, reads it with `feed_settings_for_listener`."""

from __future__ import annotations

from dataclasses import dataclass

from ketalog.domain.entities import Role
from ketalog.domain.errors import FieldProblem, PlausibilityError
from ketalog.services.context import RECORD_READERS, Context
from ketalog.services.errors import service_boundary
from ketalog.store import device_messages
from ketalog.store import settings as stored
from ketalog.store.store import Store

SETTING_KEY = "hl7_feed"
DEFAULT_PORT = 2575  # the port registered for HL7 over MLLP


@dataclass(frozen=True)
class FeedSettings:
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT


@service_boundary
def feed_settings(ctx: Context) -> FeedSettings:
    """Whether and where the app starts the listener; any clinical role and the admin
    (the app starts it after whoever logs in first)."""
    ctx.require(*RECORD_READERS, action="read the monitor feed settings")
    return feed_settings_for_listener(ctx.store)


@service_boundary
def feed_settings_for_listener(store: Store) -> FeedSettings:
    """The same setting without a Context, for `ketalog listen-hl7` only: that command
    runs the listener as a service of the workstation, started with nobody logged in,
    and needs no more than the address it binds (a damaged setting reads as the default)."""
    value = stored.mapping(store, SETTING_KEY)
    if not value:
        return FeedSettings()
    try:
        return _valid(FeedSettings(bool(value.get("enabled")), str(value.get("host")),
                                   _port(value.get("port"))))
    except (PlausibilityError, TypeError, ValueError):
        return FeedSettings()  # a damaged setting never starts a listener


def _port(value: object) -> int:
    """As int() reads it (a float is truncated, text parsed); anything else is damage."""
    if isinstance(value, int | float | str):
        return int(value)
    raise TypeError(f"port {value!r} is not a number")


def _valid(settings: FeedSettings) -> FeedSettings:
    problems = []
    if isinstance(settings.port, bool) or not 1 <= settings.port <= 65535:
        problems.append(FieldProblem("port", settings.port, "1-65535",
                                     "The port must be 1-65535 (HL7 uses 2575)"))
    host = settings.host.strip()
    if not host or any(c.isspace() for c in host) or len(host) > 253:
        problems.append(FieldProblem("host", settings.host, "an address",
                                     "Give the address to listen on (127.0.0.1 for this "
                                     "computer only, 0.0.0.0 for every network card)"))
    if problems:
        raise PlausibilityError(problems)
    return FeedSettings(bool(settings.enabled), host, int(settings.port))


@service_boundary
def save_feed_settings(ctx: Context, settings: FeedSettings, reason: str = "") -> FeedSettings:
    ctx.require(Role.ADMIN, action="change the monitor feed settings")
    clean = _valid(settings)
    with ctx.store.write(ctx.actor) as w:
        stored.write(w, SETTING_KEY, {"enabled": clean.enabled, "host": clean.host,
                                      "port": clean.port}, reason)
    return clean


@service_boundary
def quarantine_count(store: Store) -> int:
    """Monitor messages waiting for a nurse (kept here: light to import at start-up)."""
    return device_messages.quarantined_count(store)
