"""Clinical alert thresholds: soft limits that flag a plausible value (stored, shown in
red, marked in the PDF). Defaults from CLINICAL.md; every clinic may edit them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ketalog.domain.plausibility import VITAL_LIMITS


@dataclass(frozen=True)
class Band:
    low: float | None = None   # alert when value < low
    high: float | None = None  # alert when value > high


DEFAULT_ALERT_SOURCE = (
    "CLINICAL.md defaults: common examples, not a guideline; DBP and EtCO2 limits unverified"
)

DEFAULT_BANDS: dict[str, Band] = {
    "sbp_mmhg": Band(90, 180),
    "dbp_mmhg": Band(None, 110),
    "hr_bpm": Band(50, 120),
    "spo2_pct": Band(92, None),
    "rr_per_min": Band(10, 25),
    "etco2_mmhg": Band(None, 50),
}


@dataclass(frozen=True)
class Alert:
    field: str
    value: float
    direction: str  # "low" | "high"
    threshold: float

    @property
    def message(self) -> str:
        limit = VITAL_LIMITS[self.field]
        sign = "<" if self.direction == "low" else ">"
        return f"{limit.label} {self.value:g} {limit.unit} {sign} {self.threshold:g}"


@dataclass(frozen=True)
class AlertThresholds:
    bands: dict[str, Band] = field(default_factory=lambda: dict(DEFAULT_BANDS))

    def evaluate(self, values: Mapping[str, float | None]) -> list[Alert]:
        alerts: list[Alert] = []
        for name, band in self.bands.items():
            value = values.get(name)
            if value is None:
                continue
            if band.low is not None and value < band.low:
                alerts.append(Alert(name, float(value), "low", band.low))
            elif band.high is not None and value > band.high:
                alerts.append(Alert(name, float(value), "high", band.high))
        return alerts

    def to_json(self) -> dict[str, dict[str, float | None]]:
        return {k: {"low": b.low, "high": b.high} for k, b in self.bands.items()}

    @classmethod
    def from_json(cls, data: Mapping[str, Mapping[str, float | None]]) -> AlertThresholds:
        bands: dict[str, Band] = {}
        for name, spec in data.items():
            if name not in VITAL_LIMITS:
                raise ValueError(f"unknown vital {name!r} in alert thresholds")
            low, high = spec.get("low"), spec.get("high")
            if low is not None and high is not None and low >= high:
                raise ValueError(f"{name}: alert low {low} must be below high {high}")
            bands[name] = Band(low, high)
        return cls(bands)
