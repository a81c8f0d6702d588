"""A treatment series: the infusions given toward one goal (an induction course, a
maintenance programme or a booster), counted k of N, with the next session planned.

Rules:
- A series is open until it is closed (with a reason) or all N planned sessions have
  been started; a complete or closed series takes no further session.
- The next session may be planned from today up to MAX_PLAN_AHEAD_DAYS ahead; it is
  "overdue" once that day has passed without a session in the series.
- Starting a session in the series fulfils the plan (the service clears it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from ketalog.domain.errors import FieldProblem, PlausibilityError

MAX_PLAN_AHEAD_DAYS = 365
MAX_PLANNED_SESSIONS = 100
MAX_GOAL_CHARS = 300


class SeriesKind(StrEnum):
    INDUCTION = "induction"  # the initial course, e.g. 6 infusions over 2-3 weeks
    MAINTENANCE = "maintenance"  # spaced infusions that keep a response going
    BOOSTER = "booster"  # one or a few infusions when pain or mood comes back


class SeriesState(StrEnum):
    OPEN = "open"
    COMPLETE = "complete"
    CLOSED = "closed"


@dataclass(frozen=True)
class TreatmentSeries:
    id: int | None
    uuid: str
    patient_id: int
    protocol_id: int | None
    kind: SeriesKind
    planned_sessions: int
    start_date: date
    goal: str
    next_session_on: date | None = None
    closed_on: date | None = None
    closed_reason: str = ""


@dataclass(frozen=True)
class SeriesProgress:
    """Where a series stands on a given day, given how many sessions it holds."""

    series: TreatmentSeries
    sessions_started: int
    today: date

    @property
    def state(self) -> SeriesState:
        if self.series.closed_on is not None:
            return SeriesState.CLOSED
        if self.sessions_started >= self.series.planned_sessions:
            return SeriesState.COMPLETE
        return SeriesState.OPEN

    @property
    def next_number(self) -> int | None:
        """k for the next session, or None when the series takes no more."""
        return self.sessions_started + 1 if self.state is SeriesState.OPEN else None

    @property
    def overdue_days(self) -> int:
        """Days since the planned next session passed without one (0 if not overdue)."""
        planned = self.series.next_session_on
        if planned is None or self.state is not SeriesState.OPEN or planned >= self.today:
            return 0
        return (self.today - planned).days

    def short_label(self) -> str:
        """'Induction 3/6', with the state when it is not open: for narrow tables."""
        s = self.series
        text = f"{s.kind.value.capitalize()} {self.sessions_started}/{s.planned_sessions}"
        return text if self.state is SeriesState.OPEN else f"{text} {self.state.value}"

    def label(self) -> str:
        """'Induction 3 of 6' as nurses say it; the state when it is not open."""
        s = self.series
        text = f"{s.kind.value.capitalize()} {self.sessions_started} of {s.planned_sessions} done"
        if self.state is not SeriesState.OPEN:
            text += f" ({self.state.value})"
        return text


def validate_new_series(kind: str, planned_sessions: int, start_date: date, goal: str,
                        today: date) -> tuple[SeriesKind, int, date, str]:
    """Every problem at once, so the form can mark all its fields."""
    problems: list[FieldProblem] = []
    try:
        clean_kind = SeriesKind(kind)
    except ValueError:
        problems.append(FieldProblem("kind", kind, "induction, maintenance or booster",
                                     f"Unknown series kind {kind!r}"))
        clean_kind = SeriesKind.INDUCTION
    if isinstance(planned_sessions, bool) or not isinstance(planned_sessions, int) \
            or not 1 <= planned_sessions <= MAX_PLANNED_SESSIONS:
        problems.append(FieldProblem("planned_sessions", planned_sessions,
                                     f"1-{MAX_PLANNED_SESSIONS}",
                                     f"Planned sessions must be 1-{MAX_PLANNED_SESSIONS}"))
    if start_date > today + timedelta(days=MAX_PLAN_AHEAD_DAYS):
        problems.append(FieldProblem("start_date", start_date.isoformat(),
                                     f"<= {MAX_PLAN_AHEAD_DAYS} days ahead",
                                     "The start date is more than a year ahead"))
    clean_goal = goal.strip()
    if not 1 <= len(clean_goal) <= MAX_GOAL_CHARS:
        problems.append(FieldProblem("goal", goal, f"1-{MAX_GOAL_CHARS} characters",
                                     "Write the goal of the series (e.g. NRS <= 4 for a week)"))
    if problems:
        raise PlausibilityError(problems)
    return clean_kind, planned_sessions, start_date, clean_goal


def validate_next_session_day(day: date, today: date) -> date:
    """A plan is for today or later, and at most a year ahead."""
    if day < today:
        raise PlausibilityError.single("next_session_on", day.isoformat(), f">= {today}",
                                       "The next session cannot be planned in the past")
    if day > today + timedelta(days=MAX_PLAN_AHEAD_DAYS):
        raise PlausibilityError.single("next_session_on", day.isoformat(),
                                       f"<= {MAX_PLAN_AHEAD_DAYS} days ahead",
                                       "The next session is more than a year ahead")
    return day
