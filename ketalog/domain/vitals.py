"""Vital-sign derivations."""

from __future__ import annotations


def derive_map_mmhg(sbp_mmhg: float, dbp_mmhg: float) -> float:
    """Mean arterial pressure when the monitor did not measure it: DBP + (SBP-DBP)/3.

    Rounded to 0.1 mmHg: a derived value should not look more precise than the cuff.
    """
    return round(dbp_mmhg + (sbp_mmhg - dbp_mmhg) / 3.0, 1)


def format_vital(field: str, value: float | None) -> str:
    """One way to print a vital on screen and paper: temperature to 0.1 degree, a derived
    MAP whole, everything else as measured."""
    if value is None:
        return ""
    if field == "temp_c":
        return f"{value:.1f}"
    if field == "map_mmhg" and value != int(value):
        return f"{value:.0f}"
    return f"{value:g}"
