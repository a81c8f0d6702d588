"""BP gaps: every stretch longer than interval + tolerance, and only those."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from ketalog.domain.entities import VitalsReading
from ketalog.domain.monitoring_gaps import GAP_TOLERANCE_MIN, monitoring_gaps

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def bp(minute: float, artifact: bool = False, sbp: float | None = 120) -> VitalsReading:
    return VitalsReading(None, "", 1, T0 + timedelta(minutes=minute), sbp_mmhg=sbp,
                         dbp_mmhg=80, hr_bpm=70, artifact=artifact)


def test_worked_example():
    readings = [bp(0), bp(10), bp(35), bp(40, artifact=True), bp(45, sbp=None), bp(50)]
    gaps = monitoring_gaps(readings, T0, T0 + timedelta(minutes=80), 10)
    # the artifact at 40 and the reading without BP at 45 do not close the 35-50 stretch
    assert [(g.start - T0, g.minutes) for g in gaps] == [
        (timedelta(minutes=10), 25), (timedelta(minutes=35), 15), (timedelta(minutes=50), 30)]
    assert monitoring_gaps(readings, T0, T0 + timedelta(minutes=62), 10) == gaps[:2]
    assert monitoring_gaps([], T0, None, 10) == []


@given(st.lists(st.integers(0, 240), max_size=30), st.integers(1, 30), st.integers(1, 240))
def test_gaps_are_exactly_the_long_stretches(minutes, interval, length):
    end = T0 + timedelta(minutes=length)
    gaps = monitoring_gaps([bp(m) for m in minutes], T0, end, interval)
    inside = sorted({m for m in minutes if m <= length})
    edges = [0, *inside, length]
    expected = [(a, b) for a, b in zip(edges, edges[1:], strict=False)
                if b - a > interval + GAP_TOLERANCE_MIN]
    assert [((g.start - T0) / timedelta(minutes=1), (g.end - T0) / timedelta(minutes=1))
            for g in gaps] == [(float(a), float(b)) for a, b in expected]
