"""Read-side summaries shared by the CLI, the GUI and the PDFs, so every place shows the
same numbers from the same domain calculation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ketalog.domain import dosing
from ketalog.domain.chair_state import session_state
from ketalog.domain.clock import from_iso, to_iso
from ketalog.domain.entities import SessionStatus
from ketalog.domain.scales import nrs_percent_change
from ketalog.services.context import RECORD_READERS, Context
from ketalog.services.errors import service_boundary
from ketalog.services.sessions import dose_events
from ketalog.store import scores as scores_store
from ketalog.store import sessions as sessions_store
from ketalog.store.sessions import SessionListing
from ketalog.store.store import Store


@dataclass(frozen=True)
class DoseSummary:
    total_mg: float
    mg_per_kg: float
    max_rate_mg_per_h: float
    bolus_mg: float
    state: str


@service_boundary
def dose_summary(store: Store, session_id: int, weight_kg: float,
                 now: datetime | None = None) -> DoseSummary:
    """The session's total (dosing.session_total_mg: every bolus, every run; a running
    infusion up to `now`), with the figures shown beside it."""
    events = dosing.live_events(dose_events(store, session_id))
    last = max((e.at for e in events), default=None)
    when = now or last
    total = dosing.session_total_mg(events, when) if when else 0.0
    bolus = sum(e.bolus_mg or 0.0 for e in events if e.kind == "bolus")
    return DoseSummary(total, total / weight_kg if weight_kg else 0.0,
                       dosing.max_rate_mg_per_h(events), bolus, dosing.infusion_state(events))


@service_boundary
def nrs_pre_post(store: Store, session_id: int) -> tuple[int | None, int | None]:
    """First pre-infusion NRS and last post-infusion NRS of a session."""
    pre = scores_store.live_of_scale(store, session_id, "nrs", phase="pre")
    post = scores_store.live_of_scale(store, session_id, "nrs", phase="post")
    return (pre[0].value if pre else None, post[-1].value if post else None)

@dataclass(frozen=True)
class _SessionFigures:
    """A listed session with its dose and NRS figures (rounded as they are shown)."""

    listed: SessionListing
    total_mg: float
    mg_per_kg: float
    nrs_pre: int | None
    nrs_post: int | None

    @property
    def series(self) -> str:
        return f"{self.listed.session.series_number}/{self.listed.session.series_total}"


def _session_figures(store: Store, patient_id: int | None, now: datetime | None,
                     statuses: Sequence[str] | None) -> list[_SessionFigures]:
    result: list[_SessionFigures] = []
    for listed in sessions_store.listing(store, patient_id, statuses=statuses):
        session = listed.session
        running_now = now if session.status is SessionStatus.IN_PROGRESS else None
        dose = dose_summary(store, listed.session_id, session.weight_kg, now=running_now)
        pre, post = nrs_pre_post(store, listed.session_id)
        result.append(_SessionFigures(listed, round(dose.total_mg, 2),
                                      round(dose.mg_per_kg, 3), pre, post))
    return result


def _iso(when: datetime | None) -> str | None:
    return None if when is None else to_iso(when)


@service_boundary
def session_rows(store: Store, patient_id: int | None = None,
                 now: datetime | None = None,
                 statuses: Sequence[str] | None = None) -> list[dict[str, object]]:
    """One flat dict per session: what `ketalog sessions --json` prints."""
    result: list[dict[str, object]] = []
    for f in _session_figures(store, patient_id, now, statuses):
        session = f.listed.session
        pre, post = f.nrs_pre, f.nrs_post
        change = nrs_percent_change(pre, post) if pre is not None and post is not None else None
        result.append({
            "id": f.listed.session_id, "uuid": session.uuid, "mrn": f.listed.patient.mrn,
            "patient": f.listed.patient.name, "series": f.series,
            "start": _iso(session.infusion_start_at), "end": _iso(session.infusion_end_at),
            "status": session.status.value, "total_mg": f.total_mg,
            "mg_per_kg": f.mg_per_kg, "nrs_pre": pre, "nrs_post": post,
            "nrs_change_pct": None if change is None else round(change, 1),
        })
    return result


@dataclass(frozen=True)
class SessionLine:
    """One session in a list (a patient's sessions, sessions awaiting signature)."""

    session_id: int
    patient: str
    mrn: str
    start: datetime | None
    series: str
    status: str
    total_mg: float
    mg_per_kg: float
    nrs_pre: int | None
    nrs_post: int | None


@service_boundary
def session_lines(ctx: Context, patient_id: int | None = None, now: datetime | None = None,
                  statuses: Sequence[str] | None = None) -> list[SessionLine]:
    """Newest first: the session a nurse or provider looks for is usually the latest."""
    ctx.require(*RECORD_READERS, action="read session records")
    lines = [SessionLine(f.listed.session_id, f.listed.patient.name, f.listed.patient.mrn,
                         f.listed.session.infusion_start_at, f.series,
                         f.listed.session.status.value, f.total_mg, f.mg_per_kg,
                         f.nrs_pre, f.nrs_post)
             for f in _session_figures(ctx.store, patient_id, now, statuses)]
    return lines[::-1]


@service_boundary
def parse_time(text: str) -> datetime:
    return from_iso(text)


@dataclass(frozen=True)
class BoardRow:
    """One line of the "Today" board."""

    session_id: int
    chair: str
    patient: str
    mrn: str
    status: str
    started_at: datetime | None
    elapsed_min: int | None
    state: str = ""  # chair state: infusing, paused, stopped — observing N min, ...


@service_boundary
def today_board(ctx: Context, now: datetime) -> list[BoardRow]:
    """Sessions created or started since local midnight, by chair."""
    ctx.require(*RECORD_READERS, action="see today's sessions")
    store = ctx.store
    local_midnight = now.astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    listed = sessions_store.listing(store, since=local_midnight)
    seen = {s.session_id for s in listed}
    listed += [s for s in sessions_store.listing(store, statuses=("draft", "in_progress"))
               if s.session_id not in seen]  # still open from an earlier day
    board: list[BoardRow] = []
    for s in listed:
        session = s.session
        start = session.infusion_start_at
        end = session.infusion_end_at or now
        elapsed = int((end - start).total_seconds() // 60) if start else None
        state = session_state(session.status, dose_events(store, s.session_id), now)
        board.append(BoardRow(s.session_id, session.chair, s.patient.name, s.patient.mrn,
                              session.status.value, start, elapsed, state.text))
    return sorted(board, key=lambda b: (b.chair, b.session_id))
