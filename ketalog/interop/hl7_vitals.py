"""Which OBX rows are which vital, and in which unit.

An OBX is recognised by its observation identifier (OBX-3) through the code map
(resources/hl7/codes.csv plus the clinic's own rows, see hl7_codes): a LOINC code, an
ISO/IEEE 11073 (MDC) code or reference id, or a monitor's own text or local code such as
"NIBP SYS", "VITAL SpO2" (matched on letters and digits only). Anything else is ignored
and counted as unknown.

Units (OBX-6) are converted to ketalog's canonical units when the conversion is exact
(kPa -> mmHg, degF -> degC). The rule for a missing unit: it is assumed only where the
vital has one customary unit (HR and RR per minute, SpO2 in %). Blood pressure, EtCO2
(mmHg or kPa, or % which needs the barometric pressure) and temperature (C or F) are
refused without a unit: ketalog does not guess."""

from __future__ import annotations

from collections.abc import Callable

from ketalog.interop.hl7_codes import CodeMap, VitalCode, code_map
from ketalog.interop.hl7_errors import Hl7MappingError

__all__ = ["SENTINELS", "VitalCode", "identify", "to_canonical"]


def identify(identifier: str, text: str, system: str,
             codes: CodeMap | None = None) -> VitalCode | None:
    """The vital an OBX-3 (identifier^text^coding system) names, or None."""
    return (codes or code_map()).identify(identifier, text, system)[1]


# Vendor "no value" sentinels: the number a monitor sends when it has no measurement.
# -999 / -99.9 (Mindray demo data), -100 (a Mindray-compatible monitor with no probe),
# and the IEEE 11073 FLOAT special values as integers (NaN 8388607, NRes -8388608,
# +INF 8388606, -INF -8388610) and the 32-bit maximum some gateways pass on.
SENTINELS = frozenset({-999.0, -99.9, -100.0, 8388607.0, -8388608.0, 8388606.0, -8388610.0,
                       2147483647.0, -2147483648.0})


def _f_to_c(value: float) -> float:
    return round((value - 32.0) * 5.0 / 9.0, 2)


def _kpa_to_mmhg(value: float) -> float:
    return round(value * 7.500617, 1)


def _same(value: float) -> float:
    return value


def _unit_key(unit: str) -> str:
    return unit.strip().upper().replace(" ", "").replace("_", "")


def _units(names: str, convert: Callable[[float], float]) -> dict[str, Callable[[float], float]]:
    return {_unit_key(n): convert for n in names.split()}


_UNITS: dict[str, dict[str, Callable[[float], float]]] = {
    "mmhg": {**_units("mmHg mm[Hg] mm_Hg MDC_DIM_MMHG 266016", _same),
             **_units("kPa MDC_DIM_KILO_PASCAL", _kpa_to_mmhg)},
    "per_min": _units("/min 1/min min-1 /m per_min {beats}/min {beat}/min bpm beats/min "
                      "{breaths}/min {breath}/min br/min brpm rpm MDC_DIM_BEAT_PER_MIN 264864 "
                      "MDC_DIM_RESP_PER_MIN 264928 MDC_DIM_PER_MIN", _same),
    "percent": _units("% pct percent MDC_DIM_PERCENT 262688", _same),
    "celsius": {**_units("Cel C degC °C MDC_DIM_DEGC 268192", _same),
                **_units("[degF] degF F °F MDC_DIM_FAHR 266560", _f_to_c)},
}
_KIND = {"sbp_mmhg": "mmhg", "dbp_mmhg": "mmhg", "map_mmhg": "mmhg", "etco2_mmhg": "mmhg",
         "hr_bpm": "per_min", "rr_per_min": "per_min", "spo2_pct": "percent",
         "temp_c": "celsius"}
# Vitals whose unit may be left out: they have one customary unit.
UNIT_OPTIONAL = frozenset({"hr_bpm", "rr_per_min", "spo2_pct"})


def to_canonical(field: str, value: float, units: tuple[str, ...]) -> float:
    """`value` in ketalog's unit for `field`. `units` are the OBX-6 components worth
    trying (identifier, text); all empty means no unit was sent."""
    given = [u for u in units if u.strip()]
    if not given:
        if field in UNIT_OPTIONAL:
            return value
        raise Hl7MappingError(f"{field}: value {value:g} has no unit; ketalog does not guess "
                              "units for blood pressure, EtCO2 or temperature")
    table = _UNITS[_KIND[field]]
    for unit in given:
        convert = table.get(_unit_key(unit))
        if convert is not None:
            return convert(value)
    raise Hl7MappingError(f"{field}: unit {'/'.join(given)!r} is not one ketalog can convert "
                          f"for this vital")
