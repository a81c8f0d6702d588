"""Clinic settings. Everyone reads them; only admins change them."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from ketalog.domain.alerts import AlertThresholds
from ketalog.domain.course import DEFAULT_RESPONDER_THRESHOLD_PCT
from ketalog.domain.entities import Role
from ketalog.domain.errors import PlausibilityError
from ketalog.domain.follow_up_schedule import DEFAULT_FOLLOW_UP_HOURS, FollowUpSchedule
from ketalog.services.context import Context
from ketalog.store.store import Store

LATE_ENTRY_AFTER_MIN = 10  # an entry timed this long before it was typed is marked late


def clinic_name(store: Store) -> str:
    return str(store.setting("clinic_name") or "ketalog clinic")


def alert_thresholds(store: Store) -> AlertThresholds:
    data = store.setting("alert_thresholds")
    if not isinstance(data, Mapping):
        return AlertThresholds()
    return AlertThresholds.from_json(data)  # type: ignore[arg-type]


def set_alert_thresholds(ctx: Context, thresholds: AlertThresholds, reason: str = "") -> None:
    ctx.require(Role.ADMIN, action="change alert thresholds")
    with ctx.store.write(ctx.actor) as w:
        w.set_setting("alert_thresholds", thresholds.to_json(), reason)


def set_clinic_name(ctx: Context, name: str) -> None:
    ctx.require(Role.ADMIN, action="change clinic settings")
    with ctx.store.write(ctx.actor) as w:
        w.set_setting("clinic_name", name.strip())


DEFAULT_AUTO_LOGOFF_MIN = 15


def auto_logoff_minutes(store: Store) -> float:
    value = store.setting("auto_logoff_min")
    return float(value) if isinstance(value, int | float) and value > 0 else DEFAULT_AUTO_LOGOFF_MIN


def set_auto_logoff_minutes(ctx: Context, minutes: float) -> None:
    ctx.require(Role.ADMIN, action="change clinic settings")
    if not 1 <= minutes <= 240:
        raise ValueError("auto-logoff must be 1-240 minutes")
    with ctx.store.write(ctx.actor) as w:
        w.set_setting("auto_logoff_min", minutes)


# -- course of treatment ------------------------------------------------------------------
RESPONDER_THRESHOLD_RANGE = (5.0, 90.0)
FOLLOW_UP_HOURS_RANGE = (1.0, 2160.0)  # 1 hour to 90 days


def _number(value: object) -> float | None:
    """The value as a finite float, or None (bool is an int but never a setting value)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def responder_threshold_pct(store: Store) -> float:
    """NRS reduction (%) that makes a session a responder; default 30 % (CLINICAL.md)."""
    value = _number(store.setting("responder_threshold_pct"))
    low, high = RESPONDER_THRESHOLD_RANGE
    return value if value is not None and low <= value <= high else DEFAULT_RESPONDER_THRESHOLD_PCT


def set_responder_threshold_pct(ctx: Context, percent: float, reason: str = "") -> None:
    ctx.require(Role.ADMIN, action="change the responder threshold")
    low, high = RESPONDER_THRESHOLD_RANGE
    value = _number(percent)
    if value is None or not low <= value <= high:
        raise PlausibilityError.single("responder_threshold_pct", percent, f"{low:g}-{high:g} %",
                                       f"Responder threshold must be {low:g}-{high:g} %")
    with ctx.store.write(ctx.actor) as w:
        w.set_setting("responder_threshold_pct", value, reason)


def follow_up_schedule_hours(store: Store) -> tuple[float, ...]:
    """Follow-up calls after the infusion end, in hours; default 24 h, 72 h, 7 days."""
    value = store.setting("follow_up_hours")
    try:
        return _valid_hours(value)  # a damaged setting falls back, it never breaks a view
    except PlausibilityError:
        return DEFAULT_FOLLOW_UP_HOURS


def set_follow_up_schedule_hours(ctx: Context, hours: Sequence[float], reason: str = "") -> None:
    ctx.require(Role.ADMIN, action="change the follow-up schedule")
    clean = _valid_hours(hours)
    with ctx.store.write(ctx.actor) as w:
        w.set_setting("follow_up_hours", list(clean), reason)


def follow_up_schedule(store: Store) -> FollowUpSchedule:
    return FollowUpSchedule(follow_up_schedule_hours(store))


def _valid_hours(hours: object) -> tuple[float, ...]:
    low, high = FOLLOW_UP_HOURS_RANGE
    limit = f"at least one, each {low:g}-{high:g} h"
    if isinstance(hours, str | bytes) or not isinstance(hours, Sequence) or not hours:
        raise PlausibilityError.single("follow_up_hours", hours, limit,
                                       "Give at least one follow-up interval in hours")
    clean: set[float] = set()
    for h in hours:
        value = _number(h)
        if value is None or not low <= value <= high:
            raise PlausibilityError.single("follow_up_hours", h, limit,
                                           f"Follow-up interval {h!r} must be {low:g}-{high:g} h")
        clean.add(value)
    return tuple(sorted(clean))
