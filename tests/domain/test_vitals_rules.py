"""Plausibility (reject) versus clinical alert (flag), for every vital."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketalog.domain.alerts import AlertThresholds, Band
from ketalog.domain.errors import PlausibilityError
from ketalog.domain.plausibility import (
    VITAL_LIMITS,
    validate_nrs,
    validate_vitals,
    validate_weight_kg,
)
from ketalog.domain.vitals import derive_map_mmhg

# field -> (implausible value, plausible alert value, plausible normal value)
CASES = {
    "sbp_mmhg": (310, 185, 120),
    "dbp_mmhg": (210, 115, 80),
    "map_mmhg": (260, None, 93),
    "hr_bpm": (900, 130, 72),
    "spo2_pct": (140, 90, 98),
    "rr_per_min": (90, 8, 14),
    "etco2_mmhg": (160, 55, 38),
    "temp_c": (50, None, 36.8),
}


def _with_bp(field: str, value: float) -> dict[str, float]:
    """Vitals dicts with a consistent BP pair around the field under test."""
    if field == "sbp_mmhg":
        return {"sbp_mmhg": value, "dbp_mmhg": 70}
    if field == "dbp_mmhg":
        return {"sbp_mmhg": 250, "dbp_mmhg": value}
    if field == "map_mmhg":
        return {"sbp_mmhg": 280, "dbp_mmhg": 60, "map_mmhg": value}
    return {field: value}


def test_every_vital_has_a_case():
    assert set(CASES) == set(VITAL_LIMITS)


@pytest.mark.parametrize("field", sorted(CASES))
def test_implausible_is_rejected_naming_field_value_and_limit(field):
    bad = CASES[field][0]
    with pytest.raises(PlausibilityError) as info:
        validate_vitals(_with_bp(field, bad))
    problem = next(p for p in info.value.problems if p.field == field)
    limit = VITAL_LIMITS[field]
    assert problem.value == bad
    assert f"{limit.low:g}-{limit.high:g}" in problem.limit
    assert limit.label in problem.message and f"{bad:g}" in problem.message


@pytest.mark.parametrize("field", sorted(CASES))
def test_alert_value_is_plausible_and_flagged(field):
    _, alert, normal = CASES[field]
    thresholds = AlertThresholds()
    validate_vitals(_with_bp(field, normal))
    assert field not in [a.field for a in thresholds.evaluate({field: normal})]
    if alert is None:
        assert field not in thresholds.bands  # no default alert for this vital
        return
    validate_vitals(_with_bp(field, alert))  # stored, not rejected
    flagged = thresholds.evaluate({field: alert})
    assert [a.field for a in flagged] == [field]


def test_dbp_must_be_below_sbp_and_map_between():
    with pytest.raises(PlausibilityError, match="DBP 120 mmHg must be below SBP 110"):
        validate_vitals({"sbp_mmhg": 110, "dbp_mmhg": 120})
    with pytest.raises(PlausibilityError, match="MAP"):
        validate_vitals({"sbp_mmhg": 120, "dbp_mmhg": 80, "map_mmhg": 130})
    with pytest.raises(PlausibilityError, match="both SBP and DBP"):
        validate_vitals({"sbp_mmhg": 120})
    with pytest.raises(PlausibilityError, match="at least one"):
        validate_vitals({})
    with pytest.raises(PlausibilityError, match="not a number"):
        validate_vitals({"hr_bpm": float("nan")})
    with pytest.raises(PlausibilityError, match="not a vital"):
        validate_vitals({"pulse": 60})


def test_several_problems_reported_together():
    with pytest.raises(PlausibilityError) as info:
        validate_vitals({"hr_bpm": 900, "spo2_pct": 140})
    assert set(info.value.fields) == {"hr_bpm", "spo2_pct"}


def test_map_derivation():
    assert derive_map_mmhg(120, 80) == pytest.approx(93.3)
    assert derive_map_mmhg(180, 90) == 120.0


def test_weight_and_nrs_limits():
    assert validate_weight_kg(82) == 82
    for bad in (19.9, 351, True, "80"):
        with pytest.raises(PlausibilityError):
            validate_weight_kg(bad)
    assert validate_nrs(0) == 0 and validate_nrs(10) == 10
    for bad in (11, -1, 5.5, True):
        with pytest.raises(PlausibilityError):
            validate_nrs(bad)


def test_thresholds_are_editable_and_round_trip():
    custom = AlertThresholds({"sbp_mmhg": Band(100, 160)})
    assert [a.field for a in custom.evaluate({"sbp_mmhg": 170})] == ["sbp_mmhg"]
    assert AlertThresholds.from_json(custom.to_json()) == custom
    with pytest.raises(ValueError):
        AlertThresholds.from_json({"sbp_mmhg": {"low": 200, "high": 100}})
    with pytest.raises(ValueError):
        AlertThresholds.from_json({"pulse": {"low": 1, "high": 2}})


@given(st.floats(min_value=40, max_value=300), st.floats(min_value=20, max_value=200))
def test_validation_outcome_matches_the_limits(sbp, dbp):
    try:
        validate_vitals({"sbp_mmhg": sbp, "dbp_mmhg": dbp})
        accepted = True
    except PlausibilityError:
        accepted = False
    assert accepted == (dbp < sbp)
