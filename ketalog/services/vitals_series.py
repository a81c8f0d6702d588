"""A session's vitals as columns: what the live chart and the vitals table need to open a
4-hour 1 Hz session quickly. Full readings are loaded only for the rows on screen."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from ketalog.domain.clock import from_iso
from ketalog.domain.entities import VitalsReading
from ketalog.services.context import RECORD_READERS, Context
from ketalog.services.errors import service_boundary
from ketalog.store import vitals as vitals_store

CANONICAL_LENGTH = len("2026-11-24T08:00:00.000Z")
CHART_FIELDS = ("sbp_mmhg", "dbp_mmhg", "map_mmhg", "hr_bpm", "spo2_pct")


@dataclass
class VitalsColumns:
    """Chronological (time, id) order; values None where a reading lacks them."""

    ids: list[int] = field(default_factory=list)
    at_s: list[float] = field(default_factory=list)  # POSIX seconds, UTC
    values: dict[str, list[float | None]] = field(
        default_factory=lambda: {f: [] for f in CHART_FIELDS})
    artifact: list[bool] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_readings(cls, readings: Sequence[VitalsReading]) -> VitalsColumns:
        columns = cls()
        for r in sorted(readings, key=lambda r: (r.at, r.id or 0)):
            columns.add(r)
        return columns

    def add(self, reading: VitalsReading) -> int:
        """Insert in time order (a late entry lands where it belongs); returns its index."""
        t = reading.at.timestamp()
        pos = bisect_right(self.at_s, t)
        self.ids.insert(pos, reading.id or 0)
        self.at_s.insert(pos, t)
        for name, column in self.values.items():
            column.insert(pos, getattr(reading, name))
        self.artifact.insert(pos, reading.artifact)
        return pos

    def mark_artifact(self, vitals_id: int) -> None:
        self.artifact[self.ids.index(vitals_id)] = True

    def last_bp_at(self) -> datetime | None:
        """When blood pressure was last measured (artifacts do not count)."""
        sbp = self.values["sbp_mmhg"]
        for i in range(len(self.ids) - 1, -1, -1):
            if sbp[i] is not None and not self.artifact[i]:
                return datetime.fromtimestamp(self.at_s[i], UTC)
        return None


def _posix_seconds(stamps: list[str]) -> list[float]:
    """Stored times are canonical UTC (to_iso: 2026-11-24T08:00:00.000Z); numpy parses
    14,400 of them in a few ms without a datetime object each. Anything else is parsed
    (and refused if naive) one by one."""
    if all(len(t) == CANONICAL_LENGTH and t[-1] == "Z" for t in stamps):
        try:
            ms = np.array([t[:-1] for t in stamps], dtype="datetime64[ms]").astype(np.int64)
        except ValueError:
            pass
        else:
            seconds: list[float] = (ms / 1000.0).tolist()
            return seconds
    return [from_iso(t).timestamp() for t in stamps]


@service_boundary
def load_vitals_columns(ctx: Context, session_id: int) -> VitalsColumns:
    """A session's vitals as columns for the chart and the table's paging."""
    ctx.require(*RECORD_READERS, action="see a session's vitals")
    rows = vitals_store.columns(ctx.store, session_id, CHART_FIELDS)
    if not rows:
        return VitalsColumns()
    ids, at, *values, artifact = (list(c) for c in zip(*rows, strict=True))
    return VitalsColumns(
        ids=ids,
        at_s=_posix_seconds([str(t) for t in at]),
        values=dict(zip(CHART_FIELDS, values, strict=True)),
        artifact=[bool(a) for a in artifact])


@service_boundary
def load_vitals(ctx: Context, ids: Sequence[int]) -> list[VitalsReading]:
    """Full readings for the given ids, in the order asked."""
    ctx.require(*RECORD_READERS, action="see a session's vitals")
    store = ctx.store
    by_id = vitals_store.with_ids(store, ids)
    return [by_id[i] for i in ids if i in by_id]
