"""Clinic settings. Everyone reads them; only admins change them."""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ketalog.domain.alerts import AlertThresholds
from ketalog.domain.course import DEFAULT_RESPONDER_THRESHOLD_PCT
from ketalog.domain.discharge import DEFAULT_OBSERVATION_MIN, ReadinessRules
from ketalog.domain.entities import Role
from ketalog.domain.errors import FieldProblem, PlausibilityError
from ketalog.domain.follow_up_schedule import DEFAULT_FOLLOW_UP_HOURS, FollowUpSchedule
from ketalog.domain.plausibility import VITAL_LIMITS
from ketalog.domain.scales import PADSS_FIT_AT
from ketalog.services.context import Context
from ketalog.services.errors import ServiceError
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


# -- monitoring, address, logo -------------------------------------------------------------
DEFAULT_MONITORING_MIN = 15  # CLINICAL.md: vitals at least every 15 min during infusion
MONITORING_RANGE = (1, 60)
MAX_ADDRESS_CHARS, MAX_ADDRESS_LINES = 200, 3
MAX_LOGO_BYTES = 256 * 1024
LOGO_MAGIC = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG"}


OBSERVATION_RANGE = (15, 480)  # minutes after the last dose before discharge
PADSS_RANGE = (1, 8)  # adapted PADSS (4 items, 0-8)


def readiness_rules(store: Store) -> ReadinessRules:
    """Discharge readiness thresholds: observation (default 60 min, CLINICAL.md) and the
    adapted PADSS pass mark (default 7 of 8)."""
    observed = _number(store.setting("observation_min"))
    padss = _number(store.setting("padss_fit_at"))
    return ReadinessRules(
        int(observed) if observed is not None and
        OBSERVATION_RANGE[0] <= observed <= OBSERVATION_RANGE[1] else DEFAULT_OBSERVATION_MIN,
        int(padss) if padss is not None and PADSS_RANGE[0] <= padss <= PADSS_RANGE[1]
        else PADSS_FIT_AT)


def _valid_whole(field: str, label: str, bounds: tuple[int, int], unit: str
                 ) -> Callable[[object], int]:
    def check(value: object) -> int:
        number = _number(value)
        if number is None or number != int(number) or not bounds[0] <= number <= bounds[1]:
            raise PlausibilityError.single(field, value, f"{bounds[0]}-{bounds[1]}{unit}",
                                           f"{label} must be {bounds[0]}-{bounds[1]}{unit}")
        return int(number)
    return check


def monitoring_interval_min(store: Store) -> int:
    """Vitals interval for a session without a protocol (protocols carry their own)."""
    value = _number(store.setting("monitoring_interval_min"))
    low, high = MONITORING_RANGE
    return int(value) if value is not None and low <= value <= high else DEFAULT_MONITORING_MIN


def _valid_monitoring(minutes: object) -> int:
    low, high = MONITORING_RANGE
    value = _number(minutes)
    if value is None or value != int(value) or not low <= value <= high:
        raise PlausibilityError.single("monitoring_interval_min", minutes, f"{low}-{high} min",
                                       f"Vitals interval must be {low}-{high} whole minutes")
    return int(value)


def clinic_address(store: Store) -> str:
    value = store.setting("clinic_address")
    return str(value) if isinstance(value, str) else ""


def _valid_address(address: str) -> str:
    lines = [line.strip() for line in address.strip().splitlines() if line.strip()]
    clean = "\n".join(lines)
    if len(clean) > MAX_ADDRESS_CHARS or len(lines) > MAX_ADDRESS_LINES:
        raise PlausibilityError.single(
            "clinic_address", address, f"<= {MAX_ADDRESS_LINES} lines, {MAX_ADDRESS_CHARS} chars",
            f"The address must fit the PDF header: at most {MAX_ADDRESS_LINES} lines and "
            f"{MAX_ADDRESS_CHARS} characters")
    return clean


def clinic_logo(store: Store) -> bytes | None:
    """The logo image (PNG or JPEG) printed on PDFs, kept in the database itself so a
    restored backup prints the same pages."""
    value = store.setting("clinic_logo_b64")
    if not isinstance(value, str) or not value:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        return None  # a damaged setting prints no logo; it never breaks a PDF


def _valid_logo(data: bytes | None) -> str:
    if data is None or not data:
        return ""
    if len(data) > MAX_LOGO_BYTES:
        raise PlausibilityError.single("clinic_logo", f"{len(data)} bytes",
                                       f"<= {MAX_LOGO_BYTES // 1024} KB",
                                       f"The logo must be at most {MAX_LOGO_BYTES // 1024} KB")
    if not any(data.startswith(magic) for magic in LOGO_MAGIC):
        raise PlausibilityError.single("clinic_logo", "unknown format", "PNG or JPEG",
                                       "The logo must be a PNG or JPEG image")
    from ketalog.reports.logo import logo_size  # ReportLab only when a logo is set

    try:
        logo_size(data)
    except ValueError as exc:
        raise PlausibilityError.single("clinic_logo", "unreadable", "a readable image",
                                       f"The logo cannot be read: {exc}") from exc
    return base64.b64encode(data).decode("ascii")


@dataclass(frozen=True)
class ClinicSettings:
    """The settings an admin edits together; saved all or none."""

    clinic_name: str
    paper_size: str
    auto_logoff_min: float
    responder_threshold_pct: float
    follow_up_hours: tuple[float, ...]
    monitoring_interval_min: int = DEFAULT_MONITORING_MIN
    clinic_address: str = ""
    clinic_logo: bytes | None = None
    observation_min: int = DEFAULT_OBSERVATION_MIN
    padss_fit_at: int = PADSS_FIT_AT


def clinic_settings(store: Store) -> ClinicSettings:
    return ClinicSettings(clinic_name(store), paper_size(store), auto_logoff_minutes(store),
                          responder_threshold_pct(store), follow_up_schedule_hours(store),
                          monitoring_interval_min(store), clinic_address(store),
                          clinic_logo(store), readiness_rules(store).observation_min,
                          readiness_rules(store).padss_fit_at)


# Setting key -> (ClinicSettings field, check returning the stored value).
_CHECKS: dict[str, tuple[str, Callable[[Any], object]]] = {}


def save_clinic_settings(ctx: Context, new: ClinicSettings, reason: str = "") -> None:
    """Every value is checked first (all problems reported together), then all are
    written in one audited transaction."""
    ctx.require(Role.ADMIN, action="change clinic settings")
    problems = []
    values: dict[str, object] = {}
    for key, (attribute, check) in _CHECKS.items():
        try:
            values[key] = check(getattr(new, attribute))
        except PlausibilityError as exc:
            problems += exc.problems
    if problems:
        raise PlausibilityError(problems)
    old = clinic_settings(ctx.store)
    with ctx.store.write(ctx.actor) as w:
        for key, value in values.items():
            attribute, check = _CHECKS[key]
            if check(getattr(old, attribute)) != value:
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


_CHECKS.update({
    "clinic_name": ("clinic_name", _valid_name),
    "paper_size": ("paper_size", _valid_paper),
    "auto_logoff_min": ("auto_logoff_min", _valid_logoff),
    "responder_threshold_pct": ("responder_threshold_pct", _valid_threshold),
    "follow_up_hours": ("follow_up_hours", lambda hours: list(_valid_hours(hours))),
    "monitoring_interval_min": ("monitoring_interval_min", _valid_monitoring),
    "clinic_address": ("clinic_address", _valid_address),
    "clinic_logo_b64": ("clinic_logo", _valid_logo),
    "observation_min": ("observation_min", _valid_whole(
        "observation_min", "Observation after the last dose", OBSERVATION_RANGE, " min")),
    "padss_fit_at": ("padss_fit_at", _valid_whole(
        "padss_fit_at", "PADSS pass mark", PADSS_RANGE, " of 8")),
})


def set_clinic_setting(ctx: Context, field: str, value: object, reason: str = "") -> None:
    """One setting by its ClinicSettings field name, checked as the settings form is."""
    ctx.require(Role.ADMIN, action="change clinic settings")
    key = next((k for k, (attribute, _) in _CHECKS.items() if attribute == field), None)
    if key is None:
        raise ServiceError(f"unknown clinic setting {field!r}")
    clean = _CHECKS[key][1](value)
    with ctx.store.write(ctx.actor) as w:
        w.set_setting(key, clean, reason)
