"""Which vitals rows a printed record lists. Manual readings are always listed; dense
device data (1 Hz monitors: 14,400 rows in 4 hours) is listed as 5-minute medians plus
every device reading that carried an alert and every artifact, and the PDF says so."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from statistics import median

from ketalog.domain.entities import VitalsReading

SUMMARY_MINUTES = 5
LIST_ALL_UP_TO = 150  # device readings; beyond this they are summarised
VALUE_FIELDS = ("sbp_mmhg", "dbp_mmhg", "map_mmhg", "hr_bpm", "spo2_pct", "rr_per_min",
                "etco2_mmhg", "temp_c")


@dataclass(frozen=True)
class VitalsRows:
    rows: tuple[VitalsReading, ...]
    summary_note: str  # empty when every reading is listed


def is_manual(r: VitalsReading) -> bool:
    return r.source == "manual"


def select_rows(vitals: Sequence[VitalsReading]) -> VitalsRows:
    device = [r for r in vitals if not is_manual(r)]
    if len(device) <= LIST_ALL_UP_TO:
        return VitalsRows(tuple(sorted(vitals, key=lambda r: (r.at, r.id or 0))), "")
    keep = [r for r in vitals if is_manual(r) or r.alerts or r.artifact]
    plain = [r for r in device if not r.alerts and not r.artifact]
    buckets: dict[int, list[VitalsReading]] = {}
    for r in plain:
        buckets.setdefault(int(r.at.timestamp() // (SUMMARY_MINUTES * 60)), []).append(r)
    summary = [_median_row(group) for _, group in sorted(buckets.items())]
    alerts = sum(1 for r in device if r.alerts and not r.artifact)
    manual = sum(1 for r in vitals if is_manual(r))
    note = (f"Device data: {len(device):,} readings. Listed as {len(summary)} "
            f"{SUMMARY_MINUTES}-minute medians (source \"{SUMMARY_MINUTES}-min median\", "
            f"the same data as the chart) plus all {manual} manual readings, all {alerts} "
            "device readings with alert values and all artifacts, each individually.")
    rows = sorted(keep + summary, key=lambda r: (r.at, r.id or 0))
    return VitalsRows(tuple(rows), note)


def _median_row(group: list[VitalsReading]) -> VitalsReading:
    def med(field: str) -> float | None:
        values = [getattr(r, field) for r in group if getattr(r, field) is not None]
        return round(float(median(values)), 1) if values else None

    first = group[0]
    return replace(first, id=None, uuid="", source=f"{SUMMARY_MINUTES}-min median of "
                   f"{len(group)}", alerts=(), late_entry=False, map_derived=False,
                   **{f: med(f) for f in VALUE_FIELDS})
