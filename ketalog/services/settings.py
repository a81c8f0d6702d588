"""Clinic settings. Everyone reads them; only admins change them."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ketalog.domain.alerts import AlertThresholds
from ketalog.domain.course import DEFAULT_RESPONDER_THRESHOLD_PCT
from ketalog.domain.entities import Role
from ketalog.domain.errors import FieldProblem, PlausibilityError
from ketalog.domain.follow_up_schedule import DEFAULT_FOLLOW_UP_HOURS, FollowUpSchedule
from ketalog.domain.plausibility import VITAL_LIMITS
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
    """Each limit must lie inside what is plausible for that vital and low below high:
    a threshold no real value can cross would silently switch the alert off."""
    ctx.require(Role.ADMIN, action="change alert thresholds")
    problems = []
    for name, band in thresholds.bands.items():
        limit = VITAL_LIMITS.get(name)
        if limit is None:
            problems.append(FieldProblem(name, None, "a known vital", f"Unknown vital {name}"))
            continue
        for side, value in (("low", band.low), ("high", band.high)):
            if value is not None and not limit.low < value < limit.high:
                problems.append(FieldProblem(
                    f"{name}.{side}", value, f"{limit.low:g}-{limit.high:g} {limit.unit}",
                    f"{limit.label} {side} alert {value:g} must lie inside the plausible "
                    f"range {limit.low:g}-{limit.high:g} {limit.unit}"))
        if band.low is not None and band.high is not None and band.low >= band.high:
            problems.append(FieldProblem(f"{name}.low", band.low, f"< {band.high:g}",
                                         f"{limit.label} low alert must be below the high one"))
    if problems:
        raise PlausibilityError(problems)
    with ctx.store.write(ctx.actor) as w:
        w.set_setting("alert_thresholds", thresholds.to_json(), reason)


def set_clinic_name(ctx: Context, name: str, reason: str = "") -> None:
    ctx.require(Role.ADMIN, action="change clinic settings")
    clean = _valid_name(name)
    with ctx.store.write(ctx.actor) as w:
        w.set_setting("clinic_name", clean, reason)


def _valid_name(name: str) -> str:
    clean = name.strip()
    if not 1 <= len(clean) <= 120:
        raise PlausibilityError.single("clinic_name", name, "1-120 characters",
                                       "The clinic name is required (it heads every PDF)")
    return clean


DEFAULT_AUTO_LOGOFF_MIN = 15


def auto_logoff_minutes(store: Store) -> float:
    value = store.setting("auto_logoff_min")
    return float(value) if isinstance(value, int | float) and value > 0 else DEFAULT_AUTO_LOGOFF_MIN


def set_auto_logoff_minutes(ctx: Context, minutes: float, reason: str = "") -> None:
    ctx.require(Role.ADMIN, action="change clinic settings")
    value = _valid_logoff(minutes)
    with ctx.store.write(ctx.actor) as w:
        w.set_setting("auto_logoff_min", value, reason)


def _valid_logoff(minutes: object) -> float:
    value = _number(minutes)
    if value is None or not 1 <= value <= 240:
        raise PlausibilityError.single("auto_logoff_min", minutes, "1-240 min",
                                       "Auto-logoff must be 1-240 minutes")
    return value


PAPERS = ("A4", "Letter")


def paper_size(store: Store) -> str:
    value = store.setting("paper_size")
    return str(value) if value in PAPERS else "A4"


@dataclass(frozen=True)
class ClinicSettings:
    """The settings an admin edits together; saved all or none."""

    clinic_name: str
    paper_size: str
    auto_logoff_min: float
    responder_threshold_pct: float
    follow_up_hours: tuple[float, ...]


def clinic_settings(store: Store) -> ClinicSettings:
    return ClinicSettings(clinic_name(store), paper_size(store), auto_logoff_minutes(store),
                          responder_threshold_pct(store), follow_up_schedule_hours(store))


def save_clinic_settings(ctx: Context, new: ClinicSettings, reason: str = "") -> None:
    """Every value is checked first (all problems reported together), then all are
    written in one audited transaction."""
    ctx.require(Role.ADMIN, action="change clinic settings")
    problems = []
    values: dict[str, object] = {}
    for key, check in (("clinic_name", lambda: _valid_name(new.clinic_name)),
                       ("paper_size", lambda: _valid_paper(new.paper_size)),
                       ("auto_logoff_min", lambda: _valid_logoff(new.auto_logoff_min)),
                       ("responder_threshold_pct",
                        lambda: _valid_threshold(new.responder_threshold_pct)),
                       ("follow_up_hours", lambda: list(_valid_hours(new.follow_up_hours)))):
        try:
            values[key] = check()
        except PlausibilityError as exc:
            problems += exc.problems
    if problems:
        raise PlausibilityError(problems)
    old = clinic_settings(ctx.store)
    with ctx.store.write(ctx.actor) as w:
        for key, value in values.items():
            before = getattr(old, key)
            if (list(before) if isinstance(before, tuple) else before) != value:
                w.set_setting(key, value, reason)


def _valid_paper(paper: str) -> str:
    if paper not in PAPERS:
        raise PlausibilityError.single("paper_size", paper, " or ".join(PAPERS),
                                       "Paper size must be A4 or Letter")
    return paper


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
    value = _valid_threshold(percent)
    with ctx.store.write(ctx.actor) as w:
        w.set_setting("responder_threshold_pct", value, reason)


def _valid_threshold(percent: object) -> float:
    low, high = RESPONDER_THRESHOLD_RANGE
    value = _number(percent)
    if value is None or not low <= value <= high:
        raise PlausibilityError.single("responder_threshold_pct", percent, f"{low:g}-{high:g} %",
                                       f"Responder threshold must be {low:g}-{high:g} %")
    return value


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
