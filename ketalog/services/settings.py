"""Clinic settings. Any logged-in role reads them; each declared setting names the role
that may change it (services/setting_declarations.py). One reader, one validator and one
writer serve every declared setting, so a bound is stated once.

Reads take the Context, except where no login exists:
- before login: the login window's title (``clinic_name_before_login``) and the idle
  watcher set up before the first login (``auto_logoff_minutes_before_login``);
- the monitor listener's system account, and store-level views that take a Store and no
  Context (``course.load_course``), read by ``setting_value_without_login``;
- the alert thresholds (``alert_thresholds_without_login``): the monitor listener flags
  device readings with them, and the store-level checks every reading passes
  (``sessions.vitals_row``, the pending alarms, the demo's generator) take no Context.
A damaged stored value reads as its default: a setting never breaks a view or a PDF."""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Mapping, Sequence

from ketalog.domain.alerts import AlertThresholds
from ketalog.domain.discharge import ReadinessRules
from ketalog.domain.entities import Role
from ketalog.domain.errors import FieldProblem, PlausibilityError
from ketalog.domain.follow_up_schedule import FollowUpSchedule
from ketalog.domain.plausibility import VITAL_LIMITS
from ketalog.services.context import RECORD_READERS, Context
from ketalog.services.errors import PermissionDenied, ServiceError, service_boundary
from ketalog.services.setting_declarations import (
    AUTO_LOGOFF_MIN,
    BY_KEY,
    CLINIC_ADDRESS,
    CLINIC_LOGO,
    CLINIC_NAME,
    FOLLOW_UP_HOURS,
    MONITORING_INTERVAL_MIN,
    OBSERVATION_MIN,
    PADSS_FIT_AT_KEY,
    PAPER_SIZE,
    PAPERS,
    RESPONDER_THRESHOLD_PCT,
    SETTINGS,
    SettingDeclaration,
)
from ketalog.store import settings as stored
from ketalog.store.store import Store

__all__ = ["PAPERS", "SETTINGS"]

LATE_ENTRY_AFTER_MIN = 10  # an entry timed this long before it was typed is marked late
LOGO_MAGIC = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG"}


# -- a declared setting's value as its kind's type ---------------------------------------------
# `_read` hands back what `validate` made of the stored value, or the declared default;
# both are of the declaration's kind, so these only refuse a declaration that lies.
def _whole(key: str, value: object) -> int:
    """An "int" setting."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ServiceError(f"clinic setting {key!r} holds {value!r}, not a whole number")


def _real(key: str, value: object) -> float:
    """A "float" setting (a whole-number default counts)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise ServiceError(f"clinic setting {key!r} holds {value!r}, not a number")


def _hours(key: str, value: object) -> tuple[float, ...]:
    """An "hours" setting: the intervals as validated (sorted floats) or the default."""
    if isinstance(value, tuple | list):
        return tuple(_real(key, h) for h in value)
    raise ServiceError(f"clinic setting {key!r} holds {value!r}, not a list of hours")


DEFAULT_MONITORING_MIN = _whole(MONITORING_INTERVAL_MIN, BY_KEY[MONITORING_INTERVAL_MIN].default)


# -- alert thresholds (structured: a table per vital, its own screen) ------------------------
ALERT_THRESHOLDS_KEY = "alert_thresholds"


@service_boundary
def alert_thresholds(ctx: Context) -> AlertThresholds:
    """The clinic's alert limits per vital; any clinical role and the admin."""
    ctx.require(*RECORD_READERS, action="read the alert thresholds")
    return alert_thresholds_without_login(ctx.store)


@service_boundary
def alert_thresholds_without_login(store: Store) -> AlertThresholds:
    """For callers with no Context (module docstring): the monitor listener's system
    account flags device readings, and store-level checks (`sessions.vitals_row`, the
    demo's generator) judge values with the same limits."""
    data = stored.value(store, ALERT_THRESHOLDS_KEY)
    if not isinstance(data, Mapping):
        return AlertThresholds()
    return AlertThresholds.from_json(data)


@service_boundary
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
        stored.write(w, ALERT_THRESHOLDS_KEY, thresholds.to_json(), reason)


# -- the validator: one for every declared setting ------------------------------------------
def _number(value: object) -> float | None:
    """The value as a finite float, or None (bool is an int but never a setting value)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _refuse(decl: SettingDeclaration, value: object, message: str) -> PlausibilityError:
    return PlausibilityError.single(decl.key, value, decl.bounds, message)


@service_boundary
def validate(decl: SettingDeclaration, value: object) -> object:
    """The value as the service keeps it (stripped, sorted, typed), or PlausibilityError
    naming the field, the bound and the unit."""
    low, high = decl.minimum, decl.maximum
    if decl.kind == "text":
        assert low is not None and high is not None
        if not isinstance(value, str):
            raise _refuse(decl, value, f"{decl.label} must be text")
        lines = [line.strip() for line in value.strip().splitlines() if line.strip()]
        clean = "\n".join(lines) if decl.max_lines else value.strip()
        if not low <= len(clean) <= high or (decl.max_lines and len(lines) > decl.max_lines):
            need = "is required and " if low >= 1 and not clean else ""
            raise _refuse(decl, value, f"{decl.label} {need}must be {decl.bounds}")
        return clean
    if decl.kind == "choice":
        if value not in decl.choices:
            raise _refuse(decl, value, f"{decl.label} must be {decl.bounds}")
        return value
    if decl.kind in ("int", "float"):
        assert low is not None and high is not None
        number = _number(value)
        whole = decl.kind == "int"
        if number is None or (whole and number != int(number)) or not low <= number <= high:
            what = "whole number " if whole else ""
            raise _refuse(decl, value, f"{decl.label} must be a {what}{decl.bounds}")
        return int(number) if whole else number
    if decl.kind == "hours":
        return _valid_hours(decl, value)
    if decl.kind == "image":
        return _valid_image(decl, value)
    raise ServiceError(f"setting {decl.key!r} has an unknown kind {decl.kind!r}")


def _valid_hours(decl: SettingDeclaration, hours: object) -> tuple[float, ...]:
    assert decl.minimum is not None and decl.maximum is not None
    if isinstance(hours, str | bytes) or not isinstance(hours, Sequence) or not hours:
        raise _refuse(decl, hours, f"{decl.label}: give at least one interval, each "
                                   f"{decl.bounds}")
    clean: set[float] = set()
    for h in hours:
        value = _number(h)
        if value is None or not decl.minimum <= value <= decl.maximum:
            raise _refuse(decl, h, f"{decl.label}: interval {h!r} must be {decl.bounds}")
        clean.add(value)
    return tuple(sorted(clean))


def _valid_image(decl: SettingDeclaration, data: object) -> bytes | None:
    if data is None or data == b"":
        return None
    if not isinstance(data, bytes):
        raise _refuse(decl, type(data).__name__, f"The {decl.label.lower()} must be image bytes")
    assert decl.maximum is not None
    if len(data) > decl.maximum:
        raise _refuse(decl, f"{len(data)} bytes",
                      f"The {decl.label.lower()} must be at most {decl.maximum / 1024:g} KB")
    if not any(data.startswith(magic) for magic in LOGO_MAGIC):
        raise _refuse(decl, "unknown format", f"The {decl.label.lower()} must be a PNG or "
                                              "JPEG image")
    from ketalog.reports.logo import logo_size  # ReportLab only when a logo is set

    try:
        logo_size(data)
    except ValueError as exc:
        raise _refuse(decl, "unreadable",
                      f"The {decl.label.lower()} cannot be read: {exc}") from exc
    return data


def _to_stored(decl: SettingDeclaration, clean: object) -> object:
    """JSON for the clinic_settings row (a logo as base64, hours as a list)."""
    if decl.kind == "image":
        return base64.b64encode(clean).decode("ascii") if isinstance(clean, bytes) else ""
    if decl.kind == "hours" and isinstance(clean, tuple | list):
        return list(clean)
    return clean


def _read(store: Store, decl: SettingDeclaration) -> object:
    raw = stored.value(store, decl.key)
    if raw is None:
        return decl.default
    if decl.kind == "image":  # decoded only: a damaged logo prints none, it never fails a PDF
        if not isinstance(raw, str) or not raw:
            return None
        try:
            return base64.b64decode(raw, validate=True)
        except (ValueError, binascii.Error):
            return None
    try:
        return validate(decl, raw)
    except PlausibilityError:
        return decl.default


def _declaration(key: str) -> SettingDeclaration:
    decl = BY_KEY.get(key)
    if decl is None:
        raise ServiceError(f"unknown clinic setting {key!r}")
    return decl


# -- reading ---------------------------------------------------------------------------------
@service_boundary
def setting_value(ctx: Context, key: str) -> object:
    """A declared setting's value (its default when unset or damaged); any logged-in role."""
    if not ctx.roles:
        raise PermissionDenied(f"{ctx.user.username} may not read clinic settings "
                               "(needs a role)")
    return _read(ctx.store, _declaration(key))


@service_boundary
def setting_value_without_login(store: Store, key: str) -> object:
    """For the exceptions named in the module docstring only: no Context exists there."""
    return _read(store, _declaration(key))


@service_boundary
def clinic_settings(ctx: Context) -> dict[str, object]:
    """Every declared setting by key, as the Clinic settings dialog edits them."""
    return {decl.key: setting_value(ctx, decl.key) for decl in SETTINGS}


@service_boundary
def clinic_name(ctx: Context) -> str:
    return str(setting_value(ctx, CLINIC_NAME))


@service_boundary
def clinic_name_before_login(store: Store) -> str:
    """The login window's title: nobody is logged in yet."""
    return str(setting_value_without_login(store, CLINIC_NAME))


@service_boundary
def clinic_address(ctx: Context) -> str:
    return str(setting_value(ctx, CLINIC_ADDRESS))


@service_boundary
def clinic_logo(ctx: Context) -> bytes | None:
    """The logo (PNG or JPEG) printed on PDFs, kept in the database itself so a restored
    backup prints the same pages."""
    value = setting_value(ctx, CLINIC_LOGO)
    return value if isinstance(value, bytes) else None


@service_boundary
def paper_size(ctx: Context) -> str:
    return str(setting_value(ctx, PAPER_SIZE))


@service_boundary
def auto_logoff_minutes(ctx: Context) -> float:
    return _real(AUTO_LOGOFF_MIN, setting_value(ctx, AUTO_LOGOFF_MIN))


@service_boundary
def auto_logoff_minutes_before_login(store: Store) -> float:
    """The idle watcher exists before the first login."""
    return _real(AUTO_LOGOFF_MIN, setting_value_without_login(store, AUTO_LOGOFF_MIN))


@service_boundary
def monitoring_interval_min(ctx: Context) -> int:
    """Vitals interval for a session without a protocol (protocols carry their own)."""
    return _whole(MONITORING_INTERVAL_MIN, setting_value(ctx, MONITORING_INTERVAL_MIN))


@service_boundary
def readiness_rules(ctx: Context) -> ReadinessRules:
    """Discharge readiness thresholds: observation (default 60 min, CLINICAL.md) and the
    adapted PADSS pass mark (default 7 of 8)."""
    return ReadinessRules(_whole(OBSERVATION_MIN, setting_value(ctx, OBSERVATION_MIN)),
                          _whole(PADSS_FIT_AT_KEY, setting_value(ctx, PADSS_FIT_AT_KEY)))


@service_boundary
def responder_threshold_pct(ctx: Context) -> float:
    """NRS reduction (%) that makes a session a responder; default 30 % (CLINICAL.md)."""
    return _real(RESPONDER_THRESHOLD_PCT, setting_value(ctx, RESPONDER_THRESHOLD_PCT))


@service_boundary
def follow_up_schedule_hours(ctx: Context) -> tuple[float, ...]:
    """Follow-up calls after the infusion end, in hours; default 24 h, 72 h, 7 days."""
    return _hours(FOLLOW_UP_HOURS, setting_value(ctx, FOLLOW_UP_HOURS))


@service_boundary
def follow_up_schedule(ctx: Context) -> FollowUpSchedule:
    return FollowUpSchedule(follow_up_schedule_hours(ctx))


# -- changing --------------------------------------------------------------------------------
@service_boundary
def change_settings(ctx: Context, changes: Mapping[str, object], reason: str = ""
                    ) -> dict[str, object]:
    """Each setting's role is checked, then every value against its declaration (all
    problems reported together); then those that differ are written and audited in one
    transaction, or none is. Returns what changed, by key."""
    decls = [_declaration(key) for key in changes]
    for decl in decls:
        ctx.require(decl.role, action=f"change the clinic setting {decl.label!r}")
    problems: list[FieldProblem] = []
    clean: dict[str, object] = {}
    for decl in decls:
        try:
            clean[decl.key] = validate(decl, changes[decl.key])
        except PlausibilityError as exc:
            problems += exc.problems
    if problems:
        raise PlausibilityError(problems)
    changed = {key: value for key, value in clean.items() if _read(ctx.store, BY_KEY[key]) != value}
    if changed:
        with ctx.store.write(ctx.actor) as w:
            for key, value in changed.items():
                stored.write(w, key, _to_stored(BY_KEY[key], value), reason)
    return changed


@service_boundary
def set_clinic_setting(ctx: Context, key: str, value: object, reason: str = "") -> None:
    """One declared setting, checked and audited as the settings form is."""
    change_settings(ctx, {key: value}, reason)
