"""Which backups to keep: every one from the 24 hours before the newest, then the newest
of each of the last 7 days, 4 ISO weeks and 12 months that have one (a grandfather-
father-son rotation). Pure,
so the rule is tested apart from any file system."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Retention:
    daily: int = 7
    weekly: int = 4
    monthly: int = 12
    recent_hours: float = 24.0


def to_keep(stamps: Iterable[datetime], rule: Retention = Retention()) -> set[datetime]:
    ordered = sorted(set(stamps), reverse=True)
    keep: set[datetime] = set(ordered[:1])
    if ordered:
        keep |= {t for t in ordered
                 if (ordered[0] - t).total_seconds() <= rule.recent_hours * 3600}
    for count, key in ((rule.daily, lambda t: t.date()),
                       (rule.weekly, lambda t: t.isocalendar()[:2]),
                       (rule.monthly, lambda t: (t.year, t.month))):
        seen: list[object] = []
        for stamp in ordered:  # newest first: the first per period is its newest
            period = key(stamp)
            if period in seen:
                continue
            if len(seen) == count:
                break
            seen.append(period)
            keep.add(stamp)
    return keep
