"""Clinic settings. Everyone reads them; only admins change them."""

from __future__ import annotations

from collections.abc import Mapping

from ketalog.domain.alerts import AlertThresholds
from ketalog.domain.entities import Role
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
