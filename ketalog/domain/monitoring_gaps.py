"""Monitoring gaps: a stretch of the infusion longer than the protocol's monitoring
interval (plus a tolerance) with no blood pressure recorded is itself a finding
(CLINICAL.md Monitoring; electronic records show BP gaps paper smooths over). The PDF
lists every one; the live header warns of the current one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ketalog.domain.entities import VitalsReading

GAP_TOLERANCE_MIN = 2  # a reading this late is on time (cuff cycle, typing)
#: Vitals a protocol interval applies to, with what counts as a measurement of each.
#: Protocols carry one monitoring interval, for blood pressure.
INTERVAL_VITALS: dict[str, tuple[str, ...]] = {"BP": ("sbp_mmhg", "dbp_mmhg")}


@dataclass(frozen=True)
class MonitoringGap:
    vital: str
    start: datetime
    end: datetime
    interval_min: int

    @property
    def minutes(self) -> int:
        return int((self.end - self.start) / timedelta(minutes=1))


def monitoring_gaps(vitals: Sequence[VitalsReading], start: datetime | None,
                    end: datetime | None, interval_min: int,
                    tolerance_min: int = GAP_TOLERANCE_MIN) -> list[MonitoringGap]:
    """Every gap longer than interval + tolerance between `start` and `end` (the infusion
    from its first start to its last stop, or to now), for each vital with an interval.
    Artifacts are not measurements."""
    if start is None or end is None or end <= start:
        return []
    limit = timedelta(minutes=interval_min + tolerance_min)
    gaps: list[MonitoringGap] = []
    for vital, fields in INTERVAL_VITALS.items():
        times = sorted(v.at for v in vitals if not v.artifact and start <= v.at <= end
                       and all(getattr(v, f) is not None for f in fields))
        edges = [start, *times, end]
        gaps += [MonitoringGap(vital, a, b, interval_min)
                 for a, b in zip(edges, edges[1:], strict=False) if b - a > limit]
    return gaps
