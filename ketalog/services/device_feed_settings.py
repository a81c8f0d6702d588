"""The clinic's monitor-feed setting: whether the app starts the HL7 listener when it
opens, and on which address. Admins change it (audited); the CLI can override it."""

from __future__ import annotations

from dataclasses import dataclass

from ketalog.domain.entities import Role
from ketalog.domain.errors import FieldProblem, PlausibilityError
from ketalog.services.context import Context
from ketalog.services.errors import service_boundary
from ketalog.store.store import Store

SETTING_KEY = "hl7_feed"
DEFAULT_PORT = 2575  # the port registered for HL7 over MLLP


@dataclass(frozen=True)
class FeedSettings:
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT


@service_boundary
def feed_settings(store: Store) -> FeedSettings:
    value = store.setting(SETTING_KEY)
    if not isinstance(value, dict):
        return FeedSettings()
    try:
        return _valid(FeedSettings(bool(value.get("enabled")), str(value.get("host")),
                                   int(value.get("port"))))  # type: ignore[arg-type]
    except (PlausibilityError, TypeError, ValueError):
        return FeedSettings()  # a damaged setting never starts a listener


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
        w.set_setting(SETTING_KEY, {"enabled": clean.enabled, "host": clean.host,
                                    "port": clean.port}, reason)
    return clean


@service_boundary
def quarantine_count(store: Store) -> int:
    """Monitor messages waiting for a nurse (kept here: light to import at start-up)."""
    return store.count("device_messages", status="quarantined")
