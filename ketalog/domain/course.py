"""A patient's course of treatment (a series of infusions): the outcome of each session
and of the series, computed once so the course PDF and the GUI course view show the
same numbers.

Rules (also in docs/architecture.md, "Course outcome"):

- Session responder: NRS fell by at least ``threshold_pct`` (default 30 %, clinic
  setting) from the first 'pre' to the last 'post' score, i.e. ``is_nrs_responder``.
  None without both scores, or with pre 0 (a reduction from no pain is undefined).
- Course responder: more than half of the evaluable sessions (those with a responder
  status) responded. Exactly half is not a response (conservative); no evaluable
  session gives None. The median change is reported beside it, not used for it.
- Relief: a pain score is "in relief" while it is still a >= ``threshold_pct`` reduction
  from that session's pre score (NRS <= ``relief_level``). The post score is the
  observation at hour 0; follow-ups follow in time order, hours counted from the
  infusion end (its start if no end was recorded). Relief is one episode from hour 0:
  ``at_least_h`` is the last observation in relief before the first one out of relief,
  ``lost_by_h`` that first one (None while relief has not been seen to end). Relief
  that returns after being lost does not extend it. When two scores share a time, the
  one out of relief counts first. Only follow-ups from the infusion end up to (not
  including) the start of the patient's next infusion count. Patient-reported
  ``relief_hours`` are shown beside the computed figures, never mixed into them.
- Course means (NRS pre/post) are over sessions with both scores, so the two means
  describe the same sessions. Median relief is the median of ``at_least_h`` over
  sessions where relief is known; those still ongoing contribute a lower bound, so the
  median is itself "at least".
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ketalog.domain.clock import hours_between, require_aware
from ketalog.domain.entities import FollowUp
from ketalog.domain.errors import PlausibilityError
from ketalog.domain.follow_up_schedule import (
    FollowUpSchedule,
    ScheduledFollowUp,
    SlotStatus,
    schedule_follow_ups,
)
from ketalog.domain.scales import is_nrs_responder, nrs_percent_change

DEFAULT_RESPONDER_THRESHOLD_PCT = 30.0
SEVERITIES: tuple[str, ...] = ("mild", "moderate", "severe")


class ReliefStatus(StrEnum):
    NO_BASELINE = "no baseline"  # no pre score, or pre 0
    NO_FOLLOW_UP = "no follow-up"  # nothing after hour 0 says how long relief lasted
    ONGOING = "ongoing"  # every observation so far in relief: lasts at least X
    LOST = "lost"  # in relief at first, lost by Y
    NO_RELIEF = "no relief"  # the first observation was already out of relief


@dataclass(frozen=True)
class SideEffectCount:
    kind: str
    severity: str
    count: int


@dataclass(frozen=True)
class SessionInput:
    """What the course needs of one infusion; gathered by services from the record."""

    session_id: int
    infusion_start: datetime
    infusion_end: datetime | None
    nrs_pre: int | None  # first 'pre' NRS
    nrs_post: int | None  # last 'post' NRS
    total_mg: float
    mg_per_kg: float
    side_effects: tuple[SideEffectCount, ...] = ()
    series_number: int = 1
    series_total: int = 1
    status: str = ""

    def __post_init__(self) -> None:
        require_aware(self.infusion_start)
        if self.infusion_end is not None and require_aware(self.infusion_end) < self.infusion_start:
            raise PlausibilityError.single("infusion_end", self.infusion_end,
                                           ">= infusion start",
                                           "Infusion end cannot be before its start")

    @property
    def anchor(self) -> datetime:
        """Where relief hours and follow-up intervals count from."""
        return self.infusion_end or self.infusion_start

    @property
    def side_effects_by_severity(self) -> dict[str, int]:
        return _by(self.side_effects, "severity")


@dataclass(frozen=True)
class FollowUpView:
    """A follow-up as seen from its session: when, whether in relief, whether it counts."""

    follow_up: FollowUp
    hours_after: float  # since the session's anchor (infusion end)
    in_relief: bool | None  # None without NRS, pre score, or with pre 0
    counted: bool
    excluded_reason: str = ""  # "before infusion end" | "after the next infusion started"

    @property
    def reported_relief_h(self) -> float | None:
        """The patient's own estimate, shown beside the computed relief."""
        return self.follow_up.relief_hours


@dataclass(frozen=True)
class Relief:
    status: ReliefStatus
    level: float | None  # NRS at or below this is "in relief"
    at_least_h: float | None
    lost_by_h: float | None
    reported_h: float | None = None  # latest patient-reported relief_hours that counts

    @property
    def at_least_days(self) -> float | None:
        return None if self.at_least_h is None else self.at_least_h / 24

    @property
    def lost_by_days(self) -> float | None:
        return None if self.lost_by_h is None else self.lost_by_h / 24


@dataclass(frozen=True)
class SessionOutcome:
    session: SessionInput
    change_pct: float | None  # negative means less pain
    responder: bool | None
    relief: Relief
    follow_ups: tuple[FollowUpView, ...]  # all of the session's, in time order
    schedule: tuple[ScheduledFollowUp, ...]
    next_infusion_start: datetime | None


@dataclass(frozen=True)
class CourseOutcome:
    sessions: tuple[SessionOutcome, ...]  # by infusion start
    threshold_pct: float
    schedule: FollowUpSchedule
    session_count: int
    total_mg: float
    paired_count: int  # sessions with both pre and post NRS
    mean_nrs_pre: float | None
    mean_nrs_post: float | None
    median_change_pct: float | None
    evaluable_count: int  # sessions with a responder status
    responder_count: int
    responder_rate_pct: float | None
    course_responder: bool | None
    relief_known_count: int
    median_relief_at_least_h: float | None
    side_effects: tuple[SideEffectCount, ...]  # by kind and severity, most frequent first
    side_effects_by_kind: Mapping[str, int]
    side_effects_by_severity: Mapping[str, int]

    @property
    def open_follow_ups(self) -> tuple[ScheduledFollowUp, ...]:
        """Calls to make: due now or overdue, oldest due first."""
        slots = [s for o in self.sessions for s in o.schedule
                 if s.status in (SlotStatus.DUE, SlotStatus.OVERDUE)]
        return tuple(sorted(slots, key=lambda s: s.due_at))


def relief_level(pre: int, threshold_pct: float = DEFAULT_RESPONDER_THRESHOLD_PCT) -> float:
    """NRS at or below which a score is still a >= threshold % reduction from ``pre``
    (the line a chart draws); ``is_nrs_responder`` is the exact integer test."""
    return pre * (100 - threshold_pct) / 100


def session_outcome(session: SessionInput, follow_ups: Sequence[FollowUp], now: datetime,
                    threshold_pct: float = DEFAULT_RESPONDER_THRESHOLD_PCT,
                    schedule: FollowUpSchedule | None = None,
                    next_infusion_start: datetime | None = None) -> SessionOutcome:
    """One session's outcome; ``follow_ups`` may be in any order."""
    _check_threshold(threshold_pct)
    pre, post = session.nrs_pre, session.nrs_post
    change: float | None = None
    responder: bool | None = None
    if pre is not None and post is not None:
        change = nrs_percent_change(pre, post)
        responder = is_nrs_responder(pre, post, threshold_pct)
    views = tuple(_view(session, f, threshold_pct, next_infusion_start)
                  for f in sorted(follow_ups, key=lambda f: (f.at, f.id or 0)))
    counted = [v.follow_up for v in views if v.counted]
    slots = schedule_follow_ups(session.session_id, session.anchor, counted,
                                schedule or FollowUpSchedule(), now, next_infusion_start)
    return SessionOutcome(session, change, responder, _relief(session, views, threshold_pct),
                          views, slots, next_infusion_start)


def _view(session: SessionInput, f: FollowUp, threshold_pct: float,
          next_start: datetime | None) -> FollowUpView:
    reason = ""
    if f.at < session.anchor:
        reason = "before infusion end"
    elif next_start is not None and f.at >= next_start:
        reason = "after the next infusion started"
    in_relief = (is_nrs_responder(session.nrs_pre, f.nrs, threshold_pct)
                 if session.nrs_pre is not None and f.nrs is not None else None)
    return FollowUpView(f, hours_between(session.anchor, f.at), in_relief, not reason, reason)


def _relief(session: SessionInput, views: Sequence[FollowUpView],
            threshold_pct: float) -> Relief:
    pre = session.nrs_pre
    counted = [v for v in views if v.counted]
    reported = next((v.reported_relief_h for v in reversed(counted)
                     if v.reported_relief_h is not None), None)
    if pre is None or pre == 0:
        return Relief(ReliefStatus.NO_BASELINE, None, None, None, reported)
    level = relief_level(pre, threshold_pct)
    points: list[tuple[float, bool]] = []
    if session.nrs_post is not None:
        points.append((0.0, bool(is_nrs_responder(pre, session.nrs_post, threshold_pct))))
    points += [(v.hours_after, bool(v.in_relief)) for v in counted if v.in_relief is not None]
    points.sort()  # by hour; at equal hours False (out of relief) sorts first
    last_in: float | None = None
    for hours, in_relief in points:
        if not in_relief:
            status = ReliefStatus.LOST if last_in is not None else ReliefStatus.NO_RELIEF
            return Relief(status, level, last_in or 0.0, hours, reported)
        last_in = hours
    if last_in is None or (len(points) == 1 and session.nrs_post is not None):
        return Relief(ReliefStatus.NO_FOLLOW_UP, level, None, None, reported)
    return Relief(ReliefStatus.ONGOING, level, last_in, None, reported)


def summarize_course(sessions: Sequence[SessionInput], follow_ups: Sequence[FollowUp],
                     now: datetime, threshold_pct: float = DEFAULT_RESPONDER_THRESHOLD_PCT,
                     schedule: FollowUpSchedule | None = None,
                     other_infusion_starts: Sequence[datetime] = ()) -> CourseOutcome:
    """The course over ``sessions``. ``other_infusion_starts`` are the patient's infusions
    outside the chosen range, so a session's relief still stops at the next infusion."""
    _check_threshold(threshold_pct)
    schedule = schedule or FollowUpSchedule()
    ordered = sorted(sessions, key=lambda s: (s.infusion_start, s.session_id))
    starts = sorted({s.infusion_start for s in ordered} | set(other_infusion_starts))
    by_session: dict[int, list[FollowUp]] = {}
    for f in follow_ups:
        by_session.setdefault(f.session_id, []).append(f)
    outcomes = tuple(
        session_outcome(s, by_session.get(s.session_id, ()), now, threshold_pct, schedule,
                        next((t for t in starts if t > s.infusion_start), None))
        for s in ordered)
    return _totals(outcomes, threshold_pct, schedule)


def _totals(outcomes: tuple[SessionOutcome, ...], threshold_pct: float,
            schedule: FollowUpSchedule) -> CourseOutcome:
    paired = [(o.session.nrs_pre, o.session.nrs_post) for o in outcomes
              if o.session.nrs_pre is not None and o.session.nrs_post is not None]
    evaluable = [o for o in outcomes if o.responder is not None]
    responders = sum(1 for o in evaluable if o.responder)
    changes = [o.change_pct for o in outcomes if o.change_pct is not None]
    relief = [o.relief.at_least_h for o in outcomes if o.relief.at_least_h is not None]
    counts: Counter[tuple[str, str]] = Counter()
    for o in outcomes:
        for e in o.session.side_effects:
            counts[(e.kind, e.severity)] += e.count
    effects = tuple(SideEffectCount(k, s, n) for (k, s), n in
                    sorted(counts.items(), key=lambda i: (-i[1], i[0][0], _rank(i[0][1]))))
    return CourseOutcome(
        sessions=outcomes, threshold_pct=threshold_pct, schedule=schedule,
        session_count=len(outcomes),
        total_mg=sum(o.session.total_mg for o in outcomes),
        paired_count=len(paired),
        mean_nrs_pre=statistics.fmean(p[0] for p in paired) if paired else None,
        mean_nrs_post=statistics.fmean(p[1] for p in paired) if paired else None,
        median_change_pct=statistics.median(changes) if changes else None,
        evaluable_count=len(evaluable), responder_count=responders,
        responder_rate_pct=responders * 100 / len(evaluable) if evaluable else None,
        course_responder=2 * responders > len(evaluable) if evaluable else None,
        relief_known_count=len(relief),
        median_relief_at_least_h=statistics.median(relief) if relief else None,
        side_effects=effects, side_effects_by_kind=_by(effects, "kind"),
        side_effects_by_severity=_by(effects, "severity"))


def _by(effects: Sequence[SideEffectCount], attr: str) -> dict[str, int]:
    """Totals per kind (most frequent first) or per severity (mild to severe)."""
    totals: Counter[str] = Counter()
    for e in effects:
        totals[getattr(e, attr)] += e.count
    if attr == "severity":
        return {s: totals[s] for s in sorted(totals, key=_rank)}
    return dict(sorted(totals.items(), key=lambda i: (-i[1], i[0])))


def _rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def _check_threshold(threshold_pct: float) -> None:
    if isinstance(threshold_pct, bool) or not 0 < threshold_pct <= 100:
        raise PlausibilityError.single("threshold_pct", threshold_pct, "0-100",
                                       "Responder threshold must be above 0 and at most 100 %")


def relief_text(outcome: SessionOutcome) -> str:
    """A session's relief as the course view and the course PDF both word it."""
    from ketalog.domain.wording import hours_text

    r = outcome.relief
    if r.status is ReliefStatus.LOST:
        return f"≥ {hours_text(r.at_least_h)}, lost by {hours_text(r.lost_by_h)}"
    if r.status is ReliefStatus.ONGOING:
        return f"≥ {hours_text(r.at_least_h)} (ongoing)"
    return r.status.value
