"""Time handling. Code never reads the wall clock directly: a Clock is passed in so
tests can fix time, and all stored times are UTC ISO-8601 with milliseconds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Current time, timezone-aware."""
        ...


class SystemClock:
    """The real clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock for tests and demo generation: time moves only when told."""

    current: datetime = field(default_factory=lambda: datetime(2026, 1, 1, 9, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> datetime:
        self.current = self.current + timedelta(**kwargs)
        return self.current

    def set(self, when: datetime) -> None:
        self.current = require_aware(when)


def require_aware(when: datetime) -> datetime:
    """Naive datetimes are ambiguous in a clinical record; refuse them."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"time {when.isoformat()} has no timezone; clinical times must be aware")
    return when


def to_iso(when: datetime) -> str:
    """Canonical storage form: UTC, millisecond precision, trailing Z."""
    utc = require_aware(when).astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def from_iso(text: str) -> datetime:
    """Parse stored or user-supplied ISO-8601 text; naive text is refused."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    parsed = datetime.fromisoformat(value)
    return require_aware(parsed).astimezone(UTC)


def minutes_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 60.0


def hours_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600.0
