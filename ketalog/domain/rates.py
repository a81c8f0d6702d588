"""One rounding rule for infusion rates, wherever they are shown, typed or stored.

A rate is entered in mg/kg/h, mg/h or pump mL/h; the other two are computed. The mg/h
that is stored (and so integrated into the total) is the mg/h shown: the exact decimal
product of what was typed, rounded half-up to 0.1 mg/h. mL/h (the pump's display) and
mg/kg/h are then derived from that stored mg/h, half-up to 0.1 mL/h and 0.01 mg/kg/h.
Decimal arithmetic on the numbers as written keeps 0.35 x 55.3 = 19.355 -> 19.4 (binary
floats give 19.354999... and the two screens once showed 19.4 and 19.3)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

MG_PER_H_STEP = Decimal("0.1")
ML_PER_H_STEP = Decimal("0.1")
MG_PER_KG_PER_H_STEP = Decimal("0.01")
UNITS: tuple[str, ...] = ("mg/kg/h", "mg/h", "mL/h")


def _dec(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def half_up(value: float, step: Decimal) -> float:
    return float(_dec(value).quantize(step, rounding=ROUND_HALF_UP))


def mg_per_h_from_entry(value: float, unit: str, weight_kg: float,
                        concentration_mg_per_ml: float) -> float:
    """The mg/h to store for a rate typed in `unit` (mg/kg/h, mg/h or mL/h)."""
    if unit == "mg/kg/h":
        exact = _dec(value) * _dec(weight_kg)
    elif unit == "mg/h":
        exact = _dec(value)
    elif unit == "mL/h":
        exact = _dec(value) * _dec(concentration_mg_per_ml)
    else:
        raise ValueError(f"unknown rate unit {unit!r}")
    return float(exact.quantize(MG_PER_H_STEP, rounding=ROUND_HALF_UP))


def in_unit(mg_per_h: float, unit: str, weight_kg: float, concentration_mg_per_ml: float
            ) -> float:
    """A stored mg/h in `unit`, by the same rule (for display and for the rate box)."""
    if unit == "mg/kg/h":
        return float((_dec(mg_per_h) / _dec(weight_kg)).quantize(
            MG_PER_KG_PER_H_STEP, rounding=ROUND_HALF_UP))
    if unit == "mg/h":
        return half_up(mg_per_h, MG_PER_H_STEP)
    if unit == "mL/h":
        return float((_dec(mg_per_h) / _dec(concentration_mg_per_ml)).quantize(
            ML_PER_H_STEP, rounding=ROUND_HALF_UP))
    raise ValueError(f"unknown rate unit {unit!r}")


def rate_text(mg_per_h: float, weight_kg: float, concentration_mg_per_ml: float) -> str:
    """'19.4 mg/h = 0.35 mg/kg/h = pump 19.4 mL/h', the same on every screen and page."""
    return (f"{in_unit(mg_per_h, 'mg/h', weight_kg, concentration_mg_per_ml):.1f} mg/h = "
            f"{in_unit(mg_per_h, 'mg/kg/h', weight_kg, concentration_mg_per_ml):.2f} mg/kg/h "
            f"= pump {in_unit(mg_per_h, 'mL/h', weight_kg, concentration_mg_per_ml):.1f} mL/h")
