"""Backup rotation: hand-worked cases and properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from ketalog.domain.retention import Retention, to_keep

T0 = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)  # a Wednesday


def test_hourly_backups_for_two_years():
    stamps = [T0 - timedelta(hours=6 * i) for i in range(4 * 365 * 2)]
    keep = to_keep(stamps)
    days = {t.date() for t in keep if T0 - t < timedelta(days=7)}
    assert len(days) == 7  # one per day for the last week
    assert T0 in keep  # the newest always
    assert len(keep) <= 7 + 4 + 12 + 4  # plus the 4 of the last 24 hours
    assert {T0 - timedelta(hours=h) for h in (0, 6, 12, 18, 24)} <= keep
    oldest = min(keep)
    assert (oldest.year, oldest.month, oldest.day) == (2025, 12, 31)  # newest of 12th month
    assert all(t.hour == 18 for t in keep if T0 - t > timedelta(hours=24))


def test_few_backups_are_all_kept():
    stamps = [T0 - timedelta(days=40 * i) for i in range(5)]
    assert to_keep(stamps) == set(stamps)
    assert to_keep([]) == set()


@given(st.lists(st.integers(0, 3 * 365 * 24), max_size=300),
       st.integers(1, 10), st.integers(0, 6), st.integers(0, 15), st.integers(0, 48))
def test_properties(hours_ago, daily, weekly, monthly, recent):
    stamps = [T0 - timedelta(hours=h) for h in hours_ago]
    rule = Retention(daily, weekly, monthly, recent)
    keep = to_keep(stamps, rule)
    assert keep <= set(stamps)
    newest = max(stamps, default=T0)
    recent_ones = {t for t in stamps if newest - t <= timedelta(hours=recent)}
    assert recent_ones <= keep
    assert len(keep) <= max(1, daily + weekly + monthly) + len(recent_ones)
    if stamps:
        assert max(stamps) in keep
    # stable: rotating what was kept keeps it all
    assert to_keep(keep, rule) == keep
