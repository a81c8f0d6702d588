"""PHQ-9 trend rules, hand-worked from CLINICAL.md (response: >= 50 % drop or < 10)."""

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
    (12, 9, True),    # below 10 whatever the drop
    (8, 9, True),     # mild all along: below 10 counts (the rule as written)
    (15, 16, False),  # worse
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
