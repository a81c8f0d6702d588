"""PHQ-9 across a course, for the mood indication: every total in time order (scores
taken at the infusion and at follow-up calls), response and remission reported apart.

Response (scales.phq9_response): the latest total at least 50 % below the baseline; a
score that rose is never a response. The baseline is the first PHQ-9 of the current
treatment series, whatever date range is shown (the service passes it in); without one,
the earliest total shown. Remission (scales.phq9_remission): the latest total below 5.
Source: CLINICAL.md, corrected 2026-12-06."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ketalog.domain.clock import require_aware
from ketalog.domain.scales import phq9_remission, phq9_response


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
    points: tuple[MoodPoint, ...]  # by time, the range shown
    series_baseline: MoodPoint | None = None  # first PHQ-9 of the current series

    @property
    def baseline(self) -> MoodPoint | None:
        if self.series_baseline is not None:
            return self.series_baseline
        return self.points[0] if self.points else None

    @property
    def latest(self) -> MoodPoint | None:
        return self.points[-1] if self.points else None

    @property
    def response(self) -> bool | None:
        """None until there is a later total to compare with the baseline."""
        base, last = self.baseline, self.latest
        if base is None or last is None or last.at <= base.at:
            return None
        return phq9_response(base.phq9, last.phq9)

    @property
    def remission(self) -> bool | None:
        return None if self.latest is None else phq9_remission(self.latest.phq9)

    @property
    def change_pct(self) -> float | None:
        base, last = self.baseline, self.latest
        if base is None or last is None or base.phq9 == 0 or last.at <= base.at:
            return None
        return (last.phq9 - base.phq9) * 100.0 / base.phq9


def mood_trend(points: Iterable[MoodPoint],
               series_baseline: MoodPoint | None = None) -> MoodTrend:
    """Points in time order; equal times keep session scores before follow-ups."""
    order = {MoodSource.SESSION: 0, MoodSource.FOLLOW_UP: 1}
    return MoodTrend(tuple(sorted(points, key=lambda p: (p.at, order[p.source]))),
                     series_baseline)


def outcome_text(trend: MoodTrend) -> tuple[str, str]:
    """(response line, remission line), worded the same on screen and paper."""
    base, last = trend.baseline, trend.latest
    if base is None or last is None:
        return "Response: no PHQ-9 yet", "Remission: no PHQ-9 yet"
    change = trend.change_pct
    moved = "" if change is None else f" ({change:+.0f} %)"
    response = {True: "yes", False: "no", None: "not evaluable yet"}[trend.response]
    remission = "yes" if trend.remission else "no"
    return (f"Response (≥ 50 % drop from the first PHQ-9 of the series): {response} — "
            f"first {base.phq9} on {base.at.astimezone():%Y-%m-%d}, latest {last.phq9} on "
            f"{last.at.astimezone():%Y-%m-%d}{moved}",
            f"Remission (latest PHQ-9 below 5): {remission} — latest {last.phq9}")
