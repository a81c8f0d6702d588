"""The PDF chart reduces long series without losing the extremes or the time span."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ketalog.reports.chart import _reduce


@given(st.lists(st.floats(40, 250), min_size=1, max_size=3000), st.integers(5, 400))
def test_reduction_keeps_extremes_span_and_order(values, buckets):
    points = [(float(i), v) for i, v in enumerate(values)]
    reduced = _reduce(points, buckets)
    assert len(reduced) <= max(len(points), 2 * buckets)
    ys = [y for _, y in reduced]
    assert min(ys) == min(values) and max(ys) == max(values)
    xs = [x for x, _ in reduced]
    assert xs == sorted(xs) and set(reduced) <= set(points)
    if len(points) > 2 * buckets:  # the first and last bucket are drawn
        assert xs[0] <= points[len(points) // buckets][0] and xs[-1] >= points[-len(points) // buckets - 1][0]
