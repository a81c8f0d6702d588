"""Weight-based dosing math and the infusion timeline.

Storage keeps mg/h with the weight it came from; mg/kg/h and pump mL/h are derived at
the edges. Cumulative dose = sum of boluses + integral of the running rate, pauses and
time after stop contributing nothing (CLINICAL.md "Dosing").

Every place that shows a ketamine amount (session screen, JSON, PDFs, course view, CSV,
FHIR) takes it from `session_total_mg` or `running_total_mg`: one calculation, so a bolus
given after Stop or an event entered in error can never count in one place and not in
another. Events struck as entered in error take no part in any calculation here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ketalog.domain.entities import DoseKind
from ketalog.domain.errors import PlausibilityError
from ketalog.domain.indications import SEED_INDICATIONS, Indication, match_indication

LB_PER_KG = 2.2046226218


def lb_to_kg(weight_lb: float) -> float:
    return weight_lb / LB_PER_KG


def kg_to_lb(weight_kg: float) -> float:
    return weight_kg * LB_PER_KG


def mg_per_h_from_mg_per_kg_per_h(rate_mg_per_kg_per_h: float, weight_kg: float) -> float:
    return rate_mg_per_kg_per_h * weight_kg


def mg_per_kg_per_h_from_mg_per_h(rate_mg_per_h: float, weight_kg: float) -> float:
    if weight_kg <= 0:
        raise ValueError("weight_kg must be positive")
    return rate_mg_per_h / weight_kg


def ml_per_h_from_mg_per_h(rate_mg_per_h: float, concentration_mg_per_ml: float) -> float:
    if concentration_mg_per_ml <= 0:
        raise ValueError("concentration_mg_per_ml must be positive")
    return rate_mg_per_h / concentration_mg_per_ml


def mg_per_h_from_ml_per_h(rate_ml_per_h: float, concentration_mg_per_ml: float) -> float:
    return rate_ml_per_h * concentration_mg_per_ml


class DoseLike(Protocol):
    @property
    def at(self) -> datetime: ...
    @property
    def kind(self) -> DoseKind | str: ...
    @property
    def bolus_mg(self) -> float | None: ...
    @property
    def rate_mg_per_h(self) -> float | None: ...
    @property
    def struck_reason(self) -> str: ...


def live_events(events: Iterable[DoseLike]) -> list[DoseLike]:
    """The events that count: those not struck as entered in error."""
    return [e for e in events if not e.struck_reason]


@dataclass(frozen=True)
class Segment:
    """A stretch of constant infusion rate; end None means still running."""

    start: datetime
    end: datetime | None
    rate_mg_per_h: float


def _ordered(events: Iterable[DoseLike]) -> list[DoseLike]:
    # Stable: events at the same instant keep the order in which they were recorded.
    return sorted(events, key=lambda e: e.at)


def _problem(event: DoseLike, message: str) -> PlausibilityError:
    return PlausibilityError.single("kind", str(event.kind), "valid infusion sequence", message)


def check_next_event(state: str, event: DoseLike) -> None:
    """Raise PlausibilityError when `event` cannot follow the infusion `state`.

    States: "not_started", "running", "paused", "stopped"."""
    kind = DoseKind(event.kind)
    if kind is DoseKind.BOLUS:
        if event.bolus_mg is None or event.bolus_mg <= 0:
            raise PlausibilityError.single("bolus_mg", event.bolus_mg, "> 0 mg",
                                           "A bolus needs a positive dose in mg")
        return
    if kind in (DoseKind.START, DoseKind.RATE_CHANGE) and (
        event.rate_mg_per_h is None or event.rate_mg_per_h <= 0
    ):
        raise PlausibilityError.single("rate_mg_per_h", event.rate_mg_per_h, "> 0 mg/h",
                                       f"{kind.value.replace('_', ' ')} needs a positive rate "
                                       "(use pause or stop for zero)")
    allowed = {
        DoseKind.START: {"not_started", "stopped"},  # a restart after stop is a new run
        DoseKind.RATE_CHANGE: {"running"},
        DoseKind.PAUSE: {"running"},
        DoseKind.RESUME: {"paused"},
        DoseKind.STOP: {"running", "paused"},
    }[kind]
    if state not in allowed:
        raise _problem(event, f"cannot {kind.value.replace('_', ' ')} an infusion that is "
                              f"{state.replace('_', ' ')}")


def _walk(events: Sequence[DoseLike]) -> tuple[list[Segment], list[tuple[datetime, float]], str]:
    segments: list[Segment] = []
    boluses: list[tuple[datetime, float]] = []
    state, rate, since = "not_started", 0.0, None
    for event in _ordered(live_events(events)):
        check_next_event(state, event)
        kind = DoseKind(event.kind)
        if kind is DoseKind.BOLUS:
            boluses.append((event.at, float(event.bolus_mg or 0.0)))
            continue
        if state == "running" and since is not None:
            segments.append(Segment(since, event.at, rate))
        if kind in (DoseKind.START, DoseKind.RATE_CHANGE):
            rate, since, state = float(event.rate_mg_per_h or 0.0), event.at, "running"
        elif kind is DoseKind.PAUSE:
            since, state = None, "paused"
        elif kind is DoseKind.RESUME:
            if event.rate_mg_per_h is not None and event.rate_mg_per_h > 0:
                rate = float(event.rate_mg_per_h)
            since, state = event.at, "running"
        elif kind is DoseKind.STOP:
            since, state = None, "stopped"
    if state == "running" and since is not None:
        segments.append(Segment(since, None, rate))
    return segments, boluses, state


def validate_timeline(events: Sequence[DoseLike]) -> str:
    """Check the whole sequence; return the final state."""
    return _walk(events)[2]


def infusion_state(events: Sequence[DoseLike]) -> str:
    return _walk(events)[2]


def segments(events: Sequence[DoseLike]) -> list[Segment]:
    return _walk(events)[0]


def rate_at(events: Sequence[DoseLike], at: datetime) -> float:
    """Running rate in mg/h at instant `at` (0 when paused, stopped or not started)."""
    for seg in _walk(events)[0]:
        if seg.start <= at and (seg.end is None or at < seg.end):
            return seg.rate_mg_per_h
    return 0.0


def running_total_mg(events: Sequence[DoseLike], at: datetime) -> float:
    """Ketamine given up to and including instant `at`, in mg (the running-total
    column): boluses at or before `at` plus the infusion integrated up to `at`."""
    segs, boluses, _ = _walk(events)
    total = sum(mg for when, mg in boluses if when <= at)
    for seg in segs:
        if seg.start >= at:
            continue
        end = at if seg.end is None or seg.end > at else seg.end
        total += seg.rate_mg_per_h * (end - seg.start).total_seconds() / 3600.0
    return total


def session_total_mg(events: Sequence[DoseLike], now: datetime) -> float:
    """The session's ketamine total in mg: every bolus whenever given (before, during or
    after the infusion), every run of the infusion; a run still going counts up to
    `now`. Never cut at the infusion's end: a bolus after Stop is ketamine given."""
    counted = live_events(events)
    return running_total_mg(counted, max([now, *(e.at for e in counted)]))


def infusion_runs(events: Sequence[DoseLike]) -> list[tuple[datetime, datetime | None]]:
    """(start, stop) of each run: a start after a stop opens a new run; None = going."""
    runs: list[tuple[datetime, datetime | None]] = []
    for event in _ordered(live_events(events)):
        kind = DoseKind(event.kind)
        if kind is DoseKind.START:
            runs.append((event.at, None))
        elif kind is DoseKind.STOP and runs:
            runs[-1] = (runs[-1][0], event.at)
    return runs


def infusion_end(events: Sequence[DoseLike]) -> datetime | None:
    """The last stop, when the infusion is stopped (None while a run is going)."""
    runs = infusion_runs(events)
    return runs[-1][1] if runs else None


def last_dose_at(events: Sequence[DoseLike]) -> datetime | None:
    """When ketamine was last given: the latest bolus or the end of the last run (the
    moment a running infusion is now, it has no last dose yet: None)."""
    counted = live_events(events)
    times = [e.at for e in counted if DoseKind(e.kind) is DoseKind.BOLUS]
    runs = infusion_runs(counted)
    if runs and runs[-1][1] is None and infusion_state(counted) == "running":
        return None
    times += [e.at for e in counted if DoseKind(e.kind) in (DoseKind.PAUSE, DoseKind.STOP)]
    return max(times, default=None)


def max_rate_mg_per_h(events: Sequence[DoseLike]) -> float:
    return max((s.rate_mg_per_h for s in segments(events)), default=0.0)


@dataclass(frozen=True)
class DoseWarning:
    """A soft warning: shown with its source, acknowledged by the nurse, recorded."""

    code: str
    message: str
    source: str

    def as_text(self) -> str:
        return f"{self.message} [{self.source}]"


COHEN_2018 = "Cohen et al., Reg Anesth Pain Med 2018;43:521 (ASRA/AAPM/ASA consensus)"
PA_LOW_DOSE = "Pennsylvania low-dose ketamine guidance"
PAIN_BOLUS_MAX_MG_PER_KG = 0.35
PAIN_RATE_RANGE_MG_PER_KG_PER_H = (0.5, 2.0)
CRPS_STUDIED_RATE_MG_PER_KG_PER_H = 0.35
LOW_DOSE_RATE_MAX_MG_PER_KG_PER_H = 1.0
LOW_DOSE_BOLUS_MAX_MG_PER_KG = 0.5
RULE_KEYS = frozenset({"crps", "pain", "mood", "other"})
_SEEDED = tuple(Indication(None, name, category) for name, category in SEED_INDICATIONS)


def rule_key(indication: str) -> str:
    """The guideline rules an indication is judged by: a coded indication's rule key
    (services pass it), else free text matched against the seeded list, else "pain"."""
    text = indication.strip().lower()
    if text in RULE_KEYS:
        return text
    found = match_indication(indication, _SEEDED)
    return found.rule_key if found else "pain"


def is_mood_indication(indication: str) -> bool:
    return rule_key(indication) == "mood"


def _low_dose_rules(indication: str) -> bool:
    """Mood and other indications: the low-dose limits (PA guidance); Cohen 2018's ranges
    are for chronic pain only."""
    return rule_key(indication) in ("mood", "other")


def _per_kg(mg: float, weight_kg: float) -> float:
    """Compared at the precision shown (0.01 mg/kg): a pump rounding 41.0 mg/h must not
    make an exact 0.50 mg/kg/h look like 0.4995 and warn."""
    return round(mg / weight_kg, 2)


def bolus_warnings(bolus_mg: float, weight_kg: float, indication: str) -> list[DoseWarning]:
    per_kg = _per_kg(bolus_mg, weight_kg)
    if _low_dose_rules(indication):
        if per_kg > LOW_DOSE_BOLUS_MAX_MG_PER_KG:
            return [DoseWarning("bolus_above_low_dose",
                                f"Bolus {per_kg:.2f} mg/kg is above the low-dose limit "
                                f"{LOW_DOSE_BOLUS_MAX_MG_PER_KG} mg/kg", PA_LOW_DOSE)]
        return []
    if per_kg > PAIN_BOLUS_MAX_MG_PER_KG:
        return [DoseWarning("bolus_above_guideline",
                            f"Bolus {per_kg:.2f} mg/kg is above the guideline loading bolus of "
                            f"up to {PAIN_BOLUS_MAX_MG_PER_KG} mg/kg", COHEN_2018)]
    return []


def rate_warnings(rate_mg_per_h: float, weight_kg: float, indication: str,
                  slowing_from_mg_per_h: float | None = None) -> list[DoseWarning]:
    """Warnings for a rate the pump will carry (start, restart, rate change, resume with a
    rate). `slowing_from_mg_per_h`: the rate running before; slowing (for a side effect,
    say) raises no "below" warning, so the nurse is not asked to acknowledge it each time."""
    per_kg = _per_kg(rate_mg_per_h, weight_kg)
    if _low_dose_rules(indication):
        if per_kg > LOW_DOSE_RATE_MAX_MG_PER_KG_PER_H:
            return [DoseWarning("rate_above_low_dose",
                                f"Rate {per_kg:.2f} mg/kg/h is above the low-dose limit "
                                f"{LOW_DOSE_RATE_MAX_MG_PER_KG_PER_H} mg/kg/h", PA_LOW_DOSE)]
        return []
    low, high = PAIN_RATE_RANGE_MG_PER_KG_PER_H
    if per_kg > high:
        return [DoseWarning("rate_above_guideline",
                            f"Rate {per_kg:.2f} mg/kg/h is above the guideline range "
                            f"{low}-{high} mg/kg/h", COHEN_2018)]
    slowing = slowing_from_mg_per_h is not None and rate_mg_per_h < slowing_from_mg_per_h
    if slowing:
        return []
    if rule_key(indication) == "crps":
        # Cohen 2018 gives no CRPS range: 0.35 mg/kg/h over 4 h is one regimen it cites.
        if per_kg < CRPS_STUDIED_RATE_MG_PER_KG_PER_H:
            return [DoseWarning("rate_below_guideline",
                                f"Rate {per_kg:.2f} mg/kg/h is below "
                                f"{CRPS_STUDIED_RATE_MG_PER_KG_PER_H} mg/kg/h, the lowest "
                                "rate of the CRPS regimens studied (0.35 mg/kg/h over 4 h)",
                                COHEN_2018)]
        return []
    if per_kg < low:
        return [DoseWarning("rate_below_guideline",
                            f"Rate {per_kg:.2f} mg/kg/h is below the guideline range "
                            f"{low}-{high} mg/kg/h", COHEN_2018)]
    return []


def total_warnings(projected_total_mg: float, max_total_mg: float | None,
                   protocol_name: str) -> list[DoseWarning]:
    if max_total_mg is not None and projected_total_mg > max_total_mg:
        return [DoseWarning("total_above_protocol_max",
                            f"Projected total {projected_total_mg:.1f} mg exceeds the protocol "
                            f"maximum of {max_total_mg:g} mg",
                            f"protocol '{protocol_name}' (clinic setting)")]
    return []


@dataclass(frozen=True)
class DosePlan:
    """The planned dose shown before a session starts."""

    weight_kg: float
    bolus_mg: float
    rate_mg_per_h: float
    rate_mg_per_kg_per_h: float
    rate_ml_per_h: float
    duration_min: int
    planned_total_mg: float
    planned_total_mg_per_kg: float
    warnings: tuple[DoseWarning, ...]


def plan_dose(*, weight_kg: float, bolus_mg_per_kg: float, rate_mg_per_kg_per_h: float,
              duration_min: int, concentration_mg_per_ml: float, indication: str,
              max_total_mg: float | None, protocol_name: str) -> DosePlan:
    from ketalog.domain.rates import in_unit, mg_per_h_from_entry

    bolus_mg = bolus_mg_per_kg * weight_kg
    # the mg/h Start will store for this rate (one rounding rule: domain.rates)
    rate = mg_per_h_from_entry(rate_mg_per_kg_per_h, "mg/kg/h", weight_kg,
                               concentration_mg_per_ml)
    total = bolus_mg + rate * duration_min / 60.0
    warnings: list[DoseWarning] = []
    if bolus_mg > 0:
        warnings += bolus_warnings(bolus_mg, weight_kg, indication)
    warnings += rate_warnings(rate, weight_kg, indication)
    warnings += total_warnings(total, max_total_mg, protocol_name)
    return DosePlan(weight_kg, bolus_mg, rate, rate_mg_per_kg_per_h,
                    in_unit(rate, "mL/h", weight_kg, concentration_mg_per_ml), duration_min,
                    total, total / weight_kg, tuple(warnings))
