"""Alarms that are seen: a reading outside the alert thresholds (typed, imported or from
a monitor) stays pending until a nurse acknowledges it with the action taken. The
session screen shows pending alarms as a banner; the Today board marks the row."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ketalog.domain.clock import to_iso
from ketalog.domain.entities import Role, VitalsReading
from ketalog.domain.errors import PlausibilityError
from ketalog.domain.plausibility import VITAL_LIMITS
from ketalog.services.context import Context
from ketalog.services.errors import service_boundary
from ketalog.services.sessions import CLINICAL, open_for_entries
from ketalog.services.settings import alert_thresholds_without_login
from ketalog.store import acknowledgements as acknowledgements_store
from ketalog.store import sessions as sessions_store
from ketalog.store.store import Store


@dataclass(frozen=True)
class PendingAlarm:
    vitals_id: int
    vitals_uuid: str
    session_id: int
    at: datetime
    source: str  # manual | device:NAME | import
    messages: tuple[str, ...]

    @property
    def text(self) -> str:
        return f"{self.at.astimezone():%H:%M} " + ", ".join(self.messages)


def _value(reading: VitalsReading, field: str) -> float | None:
    """The reading's value of a vital named by its field ('spo2_pct'), None if unmeasured."""
    value = getattr(reading, field, None)
    return value if isinstance(value, float) else None


def _messages(store: Store, reading: VitalsReading) -> tuple[str, ...]:
    """Each flagged value with the threshold it crossed now ('SpO2 86 % < 92')."""
    values = {f: _value(reading, f) for f in reading.alerts}
    evaluated = {a.field: a.message for a in
                 alert_thresholds_without_login(store).evaluate(values)}
    out = []
    for f in reading.alerts:
        value = values[f]
        if f in evaluated:
            out.append(evaluated[f])
        elif f in VITAL_LIMITS and value is not None:
            limit = VITAL_LIMITS[f]
            out.append(f"{limit.label} {value:g} {limit.unit} (flagged when recorded)")
    return tuple(out)


def _pending(store: Store, reading: VitalsReading) -> PendingAlarm:
    assert reading.id is not None  # read from the store
    return PendingAlarm(reading.id, reading.uuid, reading.session_id, reading.at,
                        reading.source, _messages(store, reading))


@service_boundary
def pending_alarms(store: Store, session_ids: Sequence[int]) -> list[PendingAlarm]:
    return [_pending(store, r)
            for r in acknowledgements_store.unacknowledged_alert_vitals(store, session_ids)]


@service_boundary
def sessions_with_pending_alarms(ctx: Context, session_ids: Sequence[int]) -> set[int]:
    """Which of these sessions have an alarm nobody acknowledged (the board's red rows)."""
    ctx.require(*ALARM_READERS, action="see alarms")
    return {a.session_id for a in pending_alarms(ctx.store, session_ids)}


# Whoever may open a session record sees its alarm banner.
ALARM_READERS = (Role.NURSE, Role.PROVIDER, Role.ADMIN)


@service_boundary
def live_alarms(ctx: Context, session_id: int) -> list[PendingAlarm]:
    """The banner's alarms: pending ones of a session that still takes entries (a
    completed or signed record is no live patient to act on; its alarms are in the
    record as flagged)."""
    ctx.require(*ALARM_READERS, action="see a session's alarms")
    session = sessions_store.get(ctx.store, session_id)
    if session is None or session.status not in ("draft", "in_progress"):
        return []
    return pending_alarms(ctx.store, [session_id])


@service_boundary
def acknowledge_alarms(ctx: Context, session_id: int, action: str,
                       vitals_ids: Sequence[int] | None = None) -> int:
    """Acknowledge the session's pending alarms (or the listed ones) with the action
    taken; returns how many. Each acknowledgement names the reading and the alert."""
    ctx.require(*CLINICAL, action="acknowledge alarms")
    if not action.strip():
        raise PlausibilityError.single("action", action, "required",
                                       "Say what was done about the alarm (e.g. repositioned "
                                       "probe, SpO2 back to 97 %; rate halved)")
    open_for_entries(ctx.store, session_id)
    pending = [a for a in pending_alarms(ctx.store, [session_id])
               if vitals_ids is None or a.vitals_id in vitals_ids]
    now = to_iso(ctx.clock.now())
    with ctx.store.write(ctx.actor) as w:
        for alarm in pending:
            acknowledgements_store.insert(w, {
                "session_id": session_id, "at": now, "kind": "alarm",
                "subject_table": "vitals", "subject_uuid": alarm.vitals_uuid,
                "warning": f"{alarm.at.astimezone():%H:%M} " + ", ".join(alarm.messages),
                "source": "clinic alert thresholds",
                "response": action.strip(), "entered_at": now, "entered_by": ctx.user.id},
                reason=action.strip())
    return len(pending)
