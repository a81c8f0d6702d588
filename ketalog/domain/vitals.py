"""Vital-sign derivations."""

from __future__ import annotations


def derive_map_mmhg(sbp_mmhg: float, dbp_mmhg: float) -> float:
    """Mean arterial pressure when the monitor did not measure it: DBP + (SBP-DBP)/3.

    Rounded to 0.1 mmHg: a derived value should not look more precise than the cuff.
    """
    return round(dbp_mmhg + (sbp_mmhg - dbp_mmhg) / 3.0, 1)
