"""Read-side summaries shared by the CLI, the GUI and the PDFs, so every place shows the
same numbers from the same domain calculation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ketalog.domain import dosing
from ketalog.domain.chair_state import session_state
from ketalog.domain.clock import from_iso, to_iso
from ketalog.domain.entities import patient_name
from ketalog.domain.scales import nrs_percent_change
from ketalog.services.context import RECORD_READERS, Context
from ketalog.services.errors import service_boundary
from ketalog.services.sessions import dose_events
from ketalog.store import scores as scores_store
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


@service_boundary
def session_rows(store: Store, patient_id: int | None = None,
                 now: datetime | None = None,
                 statuses: Sequence[str] | None = None) -> list[dict[str, object]]:
    """One flat dict per session: what `ketalog sessions --json` prints."""
    result: list[dict[str, object]] = []
    for row in store.session_listing(patient_id, statuses=statuses):
        sid = int(row["id"])  # type: ignore[arg-type]
        weight = float(row["weight_kg"])  # type: ignore[arg-type]
        running_now = now if row["status"] == "in_progress" else None
        dose = dose_summary(store, sid, weight, now=running_now)
        pre, post = nrs_pre_post(store, sid)
        change = nrs_percent_change(pre, post) if pre is not None and post is not None else None
        result.append({
            "id": sid, "uuid": row["uuid"], "mrn": row["mrn"],
            "patient": patient_name(row["family_name"], row["given_name"]),
            "series": f"{row['series_number']}/{row['series_total']}",
            "start": row["infusion_start_at"], "end": row["infusion_end_at"],
            "status": row["status"], "total_mg": round(dose.total_mg, 2),
            "mg_per_kg": round(dose.mg_per_kg, 3), "nrs_pre": pre, "nrs_post": post,
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
    lines = [SessionLine(int(r["id"]), str(r["patient"]), str(r["mrn"]),  # type: ignore[call-overload]
                         from_iso(str(r["start"])) if r["start"] else None, str(r["series"]),
                         str(r["status"]), float(r["total_mg"]),  # type: ignore[arg-type]
                         float(r["mg_per_kg"]), r["nrs_pre"], r["nrs_post"])  # type: ignore[arg-type]
             for r in session_rows(ctx.store, patient_id, now, statuses)]
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
    rows = store.session_listing(since=to_iso(local_midnight))
    seen = {r["id"] for r in rows}
    rows += [r for r in store.session_listing(statuses=("draft", "in_progress"))
             if r["id"] not in seen]  # still open from an earlier day
    board: list[BoardRow] = []
    for r in rows:
        start = from_iso(str(r["infusion_start_at"])) if r["infusion_start_at"] else None
        end = from_iso(str(r["infusion_end_at"])) if r["infusion_end_at"] else now
        elapsed = int((end - start).total_seconds() // 60) if start else None
        state = session_state(str(r["status"]), dose_events(store, int(r["id"])), now)  # type: ignore[call-overload]
        board.append(BoardRow(int(r["id"]), str(r["chair"]),  # type: ignore[arg-type]
                              patient_name(r["family_name"], r["given_name"]),
                              str(r["mrn"]), str(r["status"]), start, elapsed, state.text))
    return sorted(board, key=lambda b: (b.chair, b.session_id))
