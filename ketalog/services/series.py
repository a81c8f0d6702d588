"""Treatment series: open one, plan its next session, close it; and where each stands.

Nurses and providers plan treatment (both see the patient between infusions); admins
do not hold clinical roles and so cannot. Every change is audited by the store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ketalog.domain.clock import to_iso
from ketalog.domain.entities import Role
from ketalog.domain.series import (
    SeriesProgress,
    SeriesState,
    TreatmentSeries,
    validate_new_series,
    validate_next_session_day,
)
from ketalog.services.context import RECORD_READERS, Context
from ketalog.services.errors import InvalidState, ServiceError, service_boundary
from ketalog.services.protocols import require_usable_protocol
from ketalog.store import patients as patient_rows
from ketalog.store import series as series_store
from ketalog.store import sessions as sessions_store
from ketalog.store.store import Store

PLANNERS = (Role.NURSE, Role.PROVIDER)

__all__ = ["NewSeries", "PlannedLine", "close_series", "planned_sessions", "get_series", "list_series", "open_series",
           "plan_next_session", "progress", "series_for_session", "start_series",
           "today_of"]


@dataclass(frozen=True)
class NewSeries:
    patient_id: int
    kind: str
    planned_sessions: int
    start_date: date
    goal: str
    protocol_id: int | None = None
    next_session_on: date | None = None


@service_boundary
def today_of(ctx_or_store: Context | Store) -> date:
    """The clinic's calendar day (local), which plans are made in."""
    store = ctx_or_store.store if isinstance(ctx_or_store, Context) else ctx_or_store
    return store.clock.now().astimezone().date()


@service_boundary
def get_series(store: Store, series_id: int) -> TreatmentSeries:
    series = series_store.get(store, series_id)
    if series is None:
        raise ServiceError(f"no treatment series with id {series_id}")
    return series


@service_boundary
def progress(store: Store, series: TreatmentSeries) -> SeriesProgress:
    started = sessions_store.count_in_series(store, series.id)
    return SeriesProgress(series, started, today_of(store))


@service_boundary
def list_series(store: Store, patient_id: int) -> list[SeriesProgress]:
    """The patient's series, newest first, each with its progress."""
    return [progress(store, series) for series in series_store.of_patient(store, patient_id)]


@service_boundary
def open_series(ctx: Context, patient_id: int) -> list[SeriesProgress]:
    """Series that can take the patient's next session."""
    ctx.require(*RECORD_READERS, action="read patients' records")
    return [p for p in list_series(ctx.store, patient_id) if p.state is SeriesState.OPEN]


@dataclass(frozen=True)
class PlannedLine:
    """A planned next session, for the main window's Planned list."""

    progress: SeriesProgress
    mrn: str
    patient_name: str  # "FAMILY, Given"
    birth_date: str


@service_boundary
def planned_sessions(ctx: Context, days_ahead: int = 14) -> list[PlannedLine]:
    """Next sessions planned up to `days_ahead` from today, overdue ones first; series
    whose planned sessions have all been started are left out (nothing left to plan)."""
    ctx.require(*RECORD_READERS, action="see the planned sessions")
    store = ctx.store
    until = today_of(store) + timedelta(days=days_ahead)
    lines = []
    for planned in series_store.planned(store, until):
        current = progress(store, planned.series)
        if current.state is SeriesState.OPEN:
            lines.append(PlannedLine(current, planned.patient.mrn, planned.patient.name,
                                     planned.patient.birth_date.isoformat()))
    return lines


@service_boundary
def series_for_session(store: Store, series_id: int | None) -> SeriesProgress | None:
    if series_id is None:
        return None
    return progress(store, get_series(store, series_id))


@service_boundary
def start_series(ctx: Context, new: NewSeries) -> TreatmentSeries:
    ctx.require(*PLANNERS, action="plan treatment series")
    if not patient_rows.patient_exists(ctx.store, new.patient_id):
        raise ServiceError(f"no patient with id {new.patient_id}")
    require_usable_protocol(ctx.store, new.protocol_id)
    today = today_of(ctx)
    kind, planned, start, goal = validate_new_series(
        new.kind, new.planned_sessions, new.start_date, new.goal, today)
    next_on = (None if new.next_session_on is None
               else validate_next_session_day(new.next_session_on, today).isoformat())
    row = {"patient_id": new.patient_id, "protocol_id": new.protocol_id, "kind": kind.value,
           "planned_sessions": planned, "start_date": start.isoformat(), "goal": goal,
           "next_session_on": next_on, "created_at": to_iso(ctx.clock.now()),
           "created_by": ctx.user.id}
    with ctx.store.write(ctx.actor) as w:
        series_id = series_store.insert(w, row)
    return get_series(ctx.store, series_id)


def _open(ctx: Context, series_id: int) -> SeriesProgress:
    current = progress(ctx.store, get_series(ctx.store, series_id))
    if current.state is not SeriesState.OPEN:
        raise InvalidState(f"this series is {current.state.value}")
    return current


@service_boundary
def plan_next_session(ctx: Context, series_id: int, day: date | None,
                      reason: str = "") -> TreatmentSeries:
    """Set (or with None, clear) the day of the series' next session."""
    ctx.require(*PLANNERS, action="plan sessions")
    _open(ctx, series_id)
    value = None if day is None else validate_next_session_day(day, today_of(ctx)).isoformat()
    with ctx.store.write(ctx.actor) as w:
        series_store.update(w, series_id, {"next_session_on": value}, reason,
                            expected={"closed_at": None})  # not closed meanwhile elsewhere
    return get_series(ctx.store, series_id)


@service_boundary
def close_series(ctx: Context, series_id: int, reason: str) -> TreatmentSeries:
    """End a series early (goal met, stopped for side effects, patient's choice)."""
    ctx.require(*PLANNERS, action="close treatment series")
    if not reason.strip():
        raise InvalidState("give a reason for closing the series")
    _open(ctx, series_id)
    with ctx.store.write(ctx.actor) as w:
        series_store.update(w, series_id,
                            {"closed_at": to_iso(ctx.clock.now()),
                             "closed_reason": reason.strip(), "next_session_on": None},
                            reason.strip(), expected={"closed_at": None})
    return get_series(ctx.store, series_id)
