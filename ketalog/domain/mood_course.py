"""PHQ-9 across a course, for the mood indication: every total in time order (scores
taken at the infusion and at follow-up calls) and whether the latest is a response.

Response is CLINICAL.md's rule (scales.phq9_response): the latest total is below 10 or
at least 50 % below the baseline. The baseline is the earliest total in the course;
with fewer than two totals there is nothing to compare and the answer is None."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ketalog.domain.clock import require_aware
from ketalog.domain.scales import phq9_response


class MoodSource(StrEnum):
    SESSION = "session"  # a PHQ-9 score recorded during the session
    FOLLOW_UP = "follow-up"  # a call or visit after it


@dataclass(frozen=True)
class MoodPoint:
    at: datetime
    phq9: int
    source: MoodSource
    session_id: int

    def __post_init__(self) -> None:
        require_aware(self.at)


@dataclass(frozen=True)
class MoodTrend:
    points: tuple[MoodPoint, ...]  # by time

    @property
    def baseline(self) -> MoodPoint | None:
        return self.points[0] if self.points else None

    @property
    def latest(self) -> MoodPoint | None:
        return self.points[-1] if self.points else None

    @property
    def response(self) -> bool | None:
        if len(self.points) < 2:
            return None
        return phq9_response(self.points[0].phq9, self.points[-1].phq9)


def mood_trend(points: Iterable[MoodPoint]) -> MoodTrend:
    """Points in time order; equal times keep session scores before follow-ups."""
    order = {MoodSource.SESSION: 0, MoodSource.FOLLOW_UP: 1}
    return MoodTrend(tuple(sorted(points, key=lambda p: (p.at, order[p.source]))))
