"""What a clinic tells the monitor feed beyond its address: its own code-map rows, bed
labels or device ids mapped to chairs, the channel it stores per device, how far a
monitor's clock may run ahead, and the assigning authority of its MRNs. All kept in the
clinic settings; every change is an admin's, audited with a reason."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from ketalog.domain.entities import Role
from ketalog.domain.errors import PlausibilityError

# The code-row vocabularies are passed on: the GUI's rule editor fills its lists from here.
from ketalog.interop.hl7_codes import MATCHES as MATCHES
from ketalog.interop.hl7_codes import NOT_RECORDED as NOT_RECORDED
from ketalog.interop.hl7_codes import VITALS as VITALS
from ketalog.interop.hl7_codes import CodeMap, CodeRow, code_map, row_problem, rows_from_setting
from ketalog.services.context import Context
from ketalog.services.errors import service_boundary
from ketalog.store import settings as stored
from ketalog.store.store import Store

CODES_KEY = "hl7_clinic_codes"
BEDS_KEY = "hl7_bed_map"
CHANNELS_KEY = "hl7_primary_channels"
RULES_KEY = "hl7_feed_rules"
DEFAULT_CLOCK_AHEAD_MIN = 5.0
MAX_CLOCK_AHEAD_MIN = 60.0


@dataclass(frozen=True)
class FeedRules:
    clock_ahead_min: float = DEFAULT_CLOCK_AHEAD_MIN  # monitor clocks ahead, tolerated
    assigning_authority: str = ""  # PID-3 CX.4 the clinic's MRNs carry ('' = any)


@dataclass(frozen=True)
class FeedConfig:
    codes: CodeMap
    beds: dict[str, str] = field(default_factory=dict)  # bed label / device id key -> chair
    channels: dict[str, dict[str, str]] = field(default_factory=dict)  # source -> vital -> ch
    rules: FeedRules = FeedRules()

    @property
    def clock_ahead(self) -> timedelta:
        return timedelta(minutes=self.rules.clock_ahead_min)


def _dict(value: object) -> dict[str, object]:
    return dict(value) if isinstance(value, Mapping) else {}


@service_boundary
def feed_rules(store: Store) -> FeedRules:
    value = stored.mapping(store, RULES_KEY)
    given = value.get("clock_ahead_min", DEFAULT_CLOCK_AHEAD_MIN)
    try:
        minutes = (float(given) if isinstance(given, int | float | str)
                   else DEFAULT_CLOCK_AHEAD_MIN)
    except ValueError:
        minutes = DEFAULT_CLOCK_AHEAD_MIN
    if not 0 <= minutes <= MAX_CLOCK_AHEAD_MIN:
        minutes = DEFAULT_CLOCK_AHEAD_MIN  # a damaged setting falls back to the default
    return FeedRules(minutes, str(value.get("assigning_authority", "") or "").strip())


@service_boundary
def feed_config(store: Store) -> FeedConfig:
    beds = {k: str(v) for k, v in stored.mapping(store, BEDS_KEY).items()}
    channels = {k: {str(a): str(b) for a, b in _dict(v).items()}
                for k, v in stored.mapping(store, CHANNELS_KEY).items()}
    return FeedConfig(code_map(rows_from_setting(stored.value(store, CODES_KEY))), beds,
                      channels, feed_rules(store))


def _reason(reason: str) -> str:
    if not reason.strip():
        raise PlausibilityError.single("reason", reason, "required",
                                       "Give a reason for the change (it is audited)")
    return reason.strip()


@service_boundary
def save_feed_rules(ctx: Context, rules: FeedRules, reason: str) -> FeedRules:
    ctx.require(Role.ADMIN, action="change the monitor feed rules")
    if not 0 <= rules.clock_ahead_min <= MAX_CLOCK_AHEAD_MIN:
        raise PlausibilityError.single("clock_ahead_min", rules.clock_ahead_min,
                                       f"0-{MAX_CLOCK_AHEAD_MIN:g}",
                                       "The tolerance for monitor clocks ahead must be "
                                       f"0-{MAX_CLOCK_AHEAD_MIN:g} min")
    clean = FeedRules(float(rules.clock_ahead_min), rules.assigning_authority.strip())
    with ctx.store.write(ctx.actor) as w:
        stored.write(w, RULES_KEY, {"clock_ahead_min": clean.clock_ahead_min,
                                    "assigning_authority": clean.assigning_authority},
                     _reason(reason))
    return clean


@service_boundary
def clinic_code_rows(store: Store) -> list[CodeRow]:
    return rows_from_setting(stored.value(store, CODES_KEY))


@service_boundary
def add_clinic_code(ctx: Context, row: CodeRow, reason: str) -> list[CodeRow]:
    """Add (or replace, same match and key) one of the clinic's own code-map rows."""
    ctx.require(Role.ADMIN, action="add monitor codes")
    clean = CodeRow(row.match.strip().upper(), row.key.strip(), row.vital.strip(),
                    row.priority, row.source.strip())
    problem = row_problem(clean)
    if problem:
        raise PlausibilityError.single("code", clean.key, "a usable code-map row", problem)
    rows = [r for r in clinic_code_rows(ctx.store)
            if (r.match, r.key.upper()) != (clean.match, clean.key.upper())] + [clean]
    with ctx.store.write(ctx.actor) as w:
        stored.write(w, CODES_KEY, [r.__dict__ for r in rows], _reason(reason))
    return rows


@service_boundary
def bed_key(label: str) -> str:
    """How a mapped bed label or device id is compared: letters and digits, lower case."""
    return "".join(c for c in label.lower() if c.isalnum())


@service_boundary
def map_bed(ctx: Context, label_or_device: str, chair: str, reason: str) -> dict[str, str]:
    """Map a monitor's bed label or device id (EUI-64, MSH-3) to a chair; an empty chair
    removes the mapping."""
    ctx.require(Role.ADMIN, action="map monitor beds to chairs")
    key = bed_key(label_or_device)
    if not key:
        raise PlausibilityError.single("bed", label_or_device, "a bed label or device id",
                                       "Give the monitor's bed label or device id")
    beds = {k: v for k, v in feed_config(ctx.store).beds.items() if k != key}
    if chair.strip():
        beds[key] = chair.strip()
    with ctx.store.write(ctx.actor) as w:
        stored.write(w, BEDS_KEY, beds, _reason(reason))
    return beds


@service_boundary
def set_primary_channel(ctx: Context, source: str, vital: str, channel: str,
                        reason: str) -> None:
    """The OBX-4 channel (e.g. 1.26.2) stored for `vital` from `source`; '' clears it."""
    ctx.require(Role.ADMIN, action="choose monitor channels")
    channels = feed_config(ctx.store).channels
    picks = dict(channels.get(source, {}))
    if channel.strip():
        picks[vital] = channel.strip()
    else:
        picks.pop(vital, None)
    channels[source] = picks
    with ctx.store.write(ctx.actor) as w:
        stored.write(w, CHANNELS_KEY, channels, _reason(reason))
