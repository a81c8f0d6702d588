"""Series rules worked by hand: k of N, complete, closed, overdue, plan limits."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketalog.domain.errors import PlausibilityError
from ketalog.domain.series import (
    MAX_PLAN_AHEAD_DAYS,
    SeriesKind,
    SeriesProgress,
    SeriesState,
    TreatmentSeries,
    validate_new_series,
    validate_next_session_day,
)

TODAY = date(2026, 11, 25)


def series(**changes: object) -> TreatmentSeries:
    base = dict(id=1, uuid="u", patient_id=1, protocol_id=None, kind=SeriesKind.INDUCTION,
                planned_sessions=6, start_date=date(2026, 11, 2), goal="NRS <= 4")
    return TreatmentSeries(**{**base, **changes})  # type: ignore[arg-type]


def test_open_series_counts_the_next_session():
    p = SeriesProgress(series(), 2, TODAY)
    assert (p.state, p.next_number, p.label()) == (SeriesState.OPEN, 3, "Induction 2 of 6 done")


def test_all_planned_sessions_started_completes_it():
    p = SeriesProgress(series(planned_sessions=2), 2, TODAY)
    assert (p.state, p.next_number) == (SeriesState.COMPLETE, None)
    assert p.label() == "Induction 2 of 2 done (complete)"


def test_closed_wins_over_open_and_is_never_overdue():
    p = SeriesProgress(series(closed_on=TODAY, next_session_on=date(2026, 11, 1)), 1, TODAY)
    assert (p.state, p.next_number, p.overdue_days) == (SeriesState.CLOSED, None, 0)


def test_overdue_days_count_from_the_planned_day():
    assert SeriesProgress(series(next_session_on=TODAY - timedelta(days=3)), 1,
                          TODAY).overdue_days == 3
    assert SeriesProgress(series(next_session_on=TODAY), 1, TODAY).overdue_days == 0
    assert SeriesProgress(series(), 1, TODAY).overdue_days == 0


def test_new_series_reports_every_problem_at_once():
    with pytest.raises(PlausibilityError) as err:
        validate_new_series("weekly", 0, TODAY + timedelta(days=400), "  ", TODAY)
    assert {p.field for p in err.value.problems} == {"kind", "planned_sessions", "start_date",
                                                     "goal"}


def test_new_series_cleans_its_goal():
    assert validate_new_series("booster", 1, TODAY, "  pain back to NRS 3 ", TODAY) == (
        SeriesKind.BOOSTER, 1, TODAY, "pain back to NRS 3")


@given(st.integers(-1000, 1000))
def test_next_session_day_is_today_up_to_a_year_ahead(offset: int):
    day = TODAY + timedelta(days=offset)
    if 0 <= offset <= MAX_PLAN_AHEAD_DAYS:
        assert validate_next_session_day(day, TODAY) == day
    else:
        with pytest.raises(PlausibilityError):
            validate_next_session_day(day, TODAY)
