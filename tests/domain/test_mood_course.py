"""PHQ-9 trend rules, hand-worked from CLINICAL.md (corrected 2026-12-06): response is a
drop of at least 50 % from the series' first PHQ-9, remission a latest total below 5,
reported apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ketalog.domain.mood_course import MoodPoint, MoodSource, mood_trend

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def point(days: float, phq9: int, source: MoodSource = MoodSource.SESSION) -> MoodPoint:
    return MoodPoint(T0 + timedelta(days=days), phq9, source, 1)


def test_no_or_one_score_has_no_verdict():
    assert mood_trend([]).response is None and mood_trend([]).latest is None
    assert mood_trend([point(0, 20)]).response is None


@pytest.mark.parametrize(("baseline", "latest", "response"), [
    (20, 10, True),   # exactly half: a response
    (20, 11, False),  # less than half, still >= 10
    (12, 9, False),   # below 10 is not a response
    (8, 9, False),    # worse: never a response
    (15, 16, False),  # worse
    (18, 4, True),    # and a remission
])
def test_response_compares_latest_with_the_earliest(baseline, latest, response):
    trend = mood_trend([point(7, latest, MoodSource.FOLLOW_UP), point(0, baseline)])
    assert (trend.baseline.phq9, trend.latest.phq9, trend.response) == (
        baseline, latest, response)


def test_equal_times_put_the_session_score_first():
    trend = mood_trend([point(1, 6, MoodSource.FOLLOW_UP), point(1, 18)])
    assert [p.phq9 for p in trend.points] == [18, 6]


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        MoodPoint(datetime(2026, 11, 2, 9, 0), 10, MoodSource.SESSION, 1)


def test_response_and_remission_are_apart_and_baseline_is_the_series_first():
    from ketalog.domain.mood_course import outcome_text

    trend = mood_trend([point(7, 4, MoodSource.FOLLOW_UP), point(0, 6)])
    assert trend.response is False and trend.remission is True  # remission without response
    series_first = point(-30, 20)
    shown = mood_trend([point(7, 9, MoodSource.FOLLOW_UP), point(0, 12)], series_first)
    assert shown.baseline is series_first and shown.response is True  # 20 -> 9
    assert shown.remission is False
    response, remission = outcome_text(shown)
    assert "Response" in response and "yes" in response and "first 20" in response
    assert remission.startswith("Remission (latest PHQ-9 below 5): no")
