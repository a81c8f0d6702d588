"""Hard plausibility limits: values that cannot be physiological are rejected with a
message naming field, value and limit. Nothing implausible is ever stored.

These are ketalog's own choices (CLINICAL.md "Monitoring"); they are deliberately wide
so that a real but alarming value is stored and flagged by the alert rules instead."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ketalog.domain.errors import FieldProblem, PlausibilityError


@dataclass(frozen=True)
class Limit:
    field: str
    label: str
    unit: str
    low: float
    high: float


VITAL_LIMITS: dict[str, Limit] = {
    "sbp_mmhg": Limit("sbp_mmhg", "SBP", "mmHg", 40, 300),
    "dbp_mmhg": Limit("dbp_mmhg", "DBP", "mmHg", 20, 200),
    "map_mmhg": Limit("map_mmhg", "MAP", "mmHg", 25, 250),
    "hr_bpm": Limit("hr_bpm", "HR", "/min", 20, 300),
    "spo2_pct": Limit("spo2_pct", "SpO2", "%", 50, 100),
    "rr_per_min": Limit("rr_per_min", "RR", "/min", 0, 80),
    "etco2_mmhg": Limit("etco2_mmhg", "EtCO2", "mmHg", 0, 150),
    "temp_c": Limit("temp_c", "Temp", "°C", 30, 45),
}

WEIGHT_LIMIT = Limit("weight_kg", "Weight", "kg", 20, 350)
NRS_LIMIT = Limit("nrs", "NRS pain", "", 0, 10)


def _fmt(value: float) -> str:
    return f"{value:g}"


def _as_number(value: object) -> float | None:
    """`value` as a float, or None when it is no real number: bools and NaN are not."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    if value != value:  # NaN is not equal to itself
        return None
    return float(value)


def check_range(limit: Limit, value: object) -> FieldProblem | None:
    number = _as_number(value)
    if number is None:
        return FieldProblem(limit.field, value, f"{_fmt(limit.low)}-{_fmt(limit.high)}",
                            f"{limit.label}: {value!r} is not a number")
    if number < limit.low or number > limit.high:
        unit = f" {limit.unit}" if limit.unit else ""
        return FieldProblem(
            limit.field, value, f"{_fmt(limit.low)}-{_fmt(limit.high)}{unit}",
            f"{limit.label} {_fmt(number)}{unit} is outside the plausible range "
            f"{_fmt(limit.low)}-{_fmt(limit.high)}{unit}",
        )
    return None


def validate_vitals(values: Mapping[str, float | None]) -> None:
    """Raise PlausibilityError listing every implausible field; return None when sound.

    At least one measurement is required, DBP must be below SBP, and a measured MAP
    must lie between them."""
    problems: list[FieldProblem] = []
    unknown = sorted(set(values) - set(VITAL_LIMITS))
    for name in unknown:
        problems.append(FieldProblem(name, values[name], "known vital",
                                     f"{name} is not a vital sign ketalog records"))
    present = {k: v for k, v in values.items() if v is not None and k in VITAL_LIMITS}
    if not present and not unknown:
        problems.append(FieldProblem("vitals", None, "at least one value",
                                     "Enter at least one vital sign"))
    for name, value in present.items():
        problem = check_range(VITAL_LIMITS[name], value)
        if problem:
            problems.append(problem)
    bad = {p.field for p in problems}
    sbp, dbp, mean = present.get("sbp_mmhg"), present.get("dbp_mmhg"), present.get("map_mmhg")
    if (sbp is None) != (dbp is None):
        missing = "dbp_mmhg" if dbp is None else "sbp_mmhg"
        problems.append(FieldProblem(missing, None, "SBP and DBP together",
                                     "Blood pressure needs both SBP and DBP"))
    if sbp is not None and dbp is not None and not bad & {"sbp_mmhg", "dbp_mmhg"}:
        if dbp >= sbp:
            problems.append(FieldProblem(
                "dbp_mmhg", dbp, f"below SBP {_fmt(sbp)} mmHg",
                f"DBP {_fmt(dbp)} mmHg must be below SBP {_fmt(sbp)} mmHg"))
        elif mean is not None and "map_mmhg" not in bad and not dbp <= mean <= sbp:
            problems.append(FieldProblem(
                "map_mmhg", mean, f"between DBP {_fmt(dbp)} and SBP {_fmt(sbp)} mmHg",
                f"MAP {_fmt(mean)} mmHg must lie between DBP {_fmt(dbp)} and SBP {_fmt(sbp)} mmHg"))
    if problems:
        raise PlausibilityError(problems)


def validate_weight_kg(weight_kg: object) -> float:
    problem = check_range(WEIGHT_LIMIT, weight_kg)
    if problem:
        raise PlausibilityError([problem])
    number = _as_number(weight_kg)
    assert number is not None  # check_range found a number
    return number


def validate_nrs(value: object, field: str = "nrs") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PlausibilityError.single(field, value, "integer 0-10",
                                       f"NRS pain must be a whole number 0-10, not {value!r}")
    if not 0 <= value <= 10:
        raise PlausibilityError.single(field, value, "0-10",
                                       f"NRS pain {value} is outside 0-10")
    return value


def require_positive(field: str, label: str, value: object, unit: str,
                     high: float | None = None) -> float:
    """Dose, rate and concentration inputs: positive numbers below a sanity ceiling."""
    number = _as_number(value)
    if number is None or number <= 0:
        raise PlausibilityError.single(field, value, f"> 0 {unit}",
                                       f"{label} must be a positive number of {unit}, not {value!r}")
    if high is not None and number > high:
        raise PlausibilityError.single(field, value, f"<= {_fmt(high)} {unit}",
                                       f"{label} {_fmt(number)} {unit} exceeds the "
                                       f"plausible maximum {_fmt(high)} {unit}")
    return number
