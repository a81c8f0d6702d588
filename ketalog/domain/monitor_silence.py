"""A monitor gone silent: its readings on a session stop for more than twice its own
interval (the median gap between its readings). Pure, so the rule is tested alone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from statistics import median

MIN_READINGS = 3  # the interval is the monitor's own, so it needs a few readings to know it
FACTOR = 2


def monitor_interval(times: Sequence[datetime]) -> timedelta | None:
    """The median gap between a monitor's readings (None with fewer than MIN_READINGS)."""
    ordered = sorted(times)
    gaps = [(b - a).total_seconds() for a, b in zip(ordered, ordered[1:], strict=False)
            if b > a]
    if len(ordered) < MIN_READINGS or not gaps:
        return None
    return timedelta(seconds=median(gaps))


def silent_since(times: Sequence[datetime], now: datetime) -> datetime | None:
    """The time of the monitor's last reading when nothing came for more than FACTOR times
    its interval; None while it keeps sending (or its interval is not known yet)."""
    interval = monitor_interval(times)
    if interval is None:
        return None
    last = max(times)
    return last if now - last > FACTOR * interval else None
