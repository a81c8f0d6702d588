"""The monitor-silent rule: more than twice the monitor's own (median) interval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from ketalog.domain.monitor_silence import monitor_interval, silent_since

T0 = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)


@given(st.integers(10, 900), st.integers(3, 40), st.integers(0, 50))
def test_silent_only_past_twice_the_interval(interval_s, count, tenths):
    times = [T0 + timedelta(seconds=interval_s * n) for n in range(count)]
    now = times[-1] + timedelta(seconds=interval_s * tenths / 10)
    assert monitor_interval(times) == timedelta(seconds=interval_s)
    expected = times[-1] if tenths > 20 else None
    assert silent_since(times, now) == expected


def test_too_few_readings_say_nothing():
    assert silent_since([T0, T0 + timedelta(minutes=1)], T0 + timedelta(hours=1)) is None
    assert silent_since([], T0) is None
