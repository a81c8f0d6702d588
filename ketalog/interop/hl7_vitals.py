"""Which OBX rows are which vital, and in which unit.

An OBX is recognised by its observation identifier (OBX-3): a LOINC code, an
ISO/IEEE 11073 (MDC) code or reference id, or a monitor's own text such as "NIBP-S",
"SpO2", "CO2Et" (matched on letters and digits only, case-insensitive, in any coding
system, so local codes of the common gateways map too). Anything else is ignored.

Units (OBX-6) are converted to ketalog's canonical units when the conversion is exact
(kPa -> mmHg, degF -> degC). The rule for a missing unit: it is assumed only where the
vital has one customary unit (HR and RR per minute, SpO2 in %). Blood pressure, EtCO2
(mmHg or kPa, or % which needs the barometric pressure) and temperature (C or F) are
refused without a unit: ketalog does not guess."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ketalog.interop.hl7_errors import Hl7MappingError


@dataclass(frozen=True)
class VitalCode:
    field: str
    priority: int = 0  # lower wins when two codes give the same vital at the same time


_BP_SYS, _BP_DIA, _BP_MEAN = VitalCode("sbp_mmhg"), VitalCode("dbp_mmhg"), VitalCode("map_mmhg")
_HR, _PULSE = VitalCode("hr_bpm"), VitalCode("hr_bpm", 1)  # ECG heart rate beats pulse rate
_SPO2, _RR, _ETCO2 = VitalCode("spo2_pct"), VitalCode("rr_per_min"), VitalCode("etco2_mmhg")
_TEMP = VitalCode("temp_c")

LOINC: dict[str, VitalCode] = {
    "8480-6": _BP_SYS, "76534-7": _BP_SYS,
    "8462-4": _BP_DIA, "76535-4": _BP_DIA,
    "8478-0": _BP_MEAN, "76536-2": _BP_MEAN,
    "8867-4": _HR, "8889-8": _PULSE,
    "59408-5": _SPO2, "2708-6": _SPO2, "20564-1": _SPO2,
    "9279-1": _RR,
    "19891-1": _ETCO2,
    "8310-5": _TEMP, "8331-1": _TEMP, "8328-7": _TEMP, "8333-7": _TEMP,
}

MDC: dict[str, VitalCode] = {
    "150021": _BP_SYS, "MDC_PRESS_BLD_NONINV_SYS": _BP_SYS, "MDC_PRESS_CUFF_SYS": _BP_SYS,
    "150022": _BP_DIA, "MDC_PRESS_BLD_NONINV_DIA": _BP_DIA, "MDC_PRESS_CUFF_DIA": _BP_DIA,
    "150023": _BP_MEAN, "MDC_PRESS_BLD_NONINV_MEAN": _BP_MEAN, "MDC_PRESS_CUFF_MEAN": _BP_MEAN,
    "147842": _HR, "MDC_ECG_HEART_RATE": _HR,
    "149530": _PULSE, "MDC_PULS_OXIM_PULS_RATE": _PULSE,
    "149546": _PULSE, "MDC_PULS_RATE_NON_INV": _PULSE,
    "150456": _SPO2, "MDC_PULS_OXIM_SAT_O2": _SPO2,
    "151562": _RR, "MDC_RESP_RATE": _RR, "MDC_TTHOR_RESP_RATE": _RR,
    "MDC_CO2_RESP_RATE": VitalCode("rr_per_min", 1),
    "151708": _ETCO2, "MDC_AWAY_CO2_ET": _ETCO2, "MDC_CONC_AWAY_CO2_ET": _ETCO2,
    "150344": _TEMP, "MDC_TEMP": _TEMP, "150364": _TEMP, "MDC_TEMP_BODY": _TEMP,
    "MDC_TEMP_ORAL": _TEMP, "MDC_TEMP_TYMP": _TEMP, "MDC_TEMP_AXILLA": _TEMP,
}


def _key(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", text.upper())


# Monitor texts and local codes, compared on letters and digits only.
TEXT: dict[str, VitalCode] = {
    **dict.fromkeys(("NIBPS", "NIBPSYS", "NBPS", "NBPSYS", "NIBPSYSTOLIC", "SYS", "SYSTOLIC",
                     "BPSYS", "SBP", "SYSTOLICBLOODPRESSURE", "NIBPSYSTOLICPRESSURE"), _BP_SYS),
    **dict.fromkeys(("NIBPD", "NIBPDIA", "NBPD", "NBPDIA", "NIBPDIASTOLIC", "DIA", "DIASTOLIC",
                     "BPDIA", "DBP", "DIASTOLICBLOODPRESSURE"), _BP_DIA),
    **dict.fromkeys(("NIBPM", "NIBPMEAN", "NBPM", "NBPMEAN", "NIBPMAP", "MEAN", "MAP", "BPMEAN",
                     "MEANBLOODPRESSURE", "MEANARTERIALPRESSURE"), _BP_MEAN),
    **dict.fromkeys(("HR", "HEARTRATE", "ECGHR", "HRECG"), _HR),
    **dict.fromkeys(("PR", "PULSE", "PULSERATE", "SPO2PR", "PRSPO2", "PLETHPR", "NIBPPR"),
                    _PULSE),
    **dict.fromkeys(("SPO2", "SAO2", "SPO2PCT", "OXYGENSATURATION"), _SPO2),
    **dict.fromkeys(("RR", "RESP", "RESPRATE", "RESPIRATORYRATE", "RRIMP", "AWRR"), _RR),
    **dict.fromkeys(("ETCO2", "CO2ET", "ENDTIDALCO2", "PETCO2"), _ETCO2),
    **dict.fromkeys(("TEMP", "T1", "TEMPERATURE", "BODYTEMPERATURE", "TEMPBODY", "TSKIN",
                     "TCORE"), _TEMP),
}


def identify(identifier: str, text: str, system: str) -> VitalCode | None:
    """The vital an OBX-3 (identifier^text^coding system) names, or None."""
    ident, label, coding = identifier.strip(), text.strip(), system.strip().upper()
    if coding in ("LN", "LOINC") and ident in LOINC:
        return LOINC[ident]
    for candidate in (ident, label):
        if candidate.upper() in MDC:
            return MDC[candidate.upper()]
    if ident in LOINC:
        return LOINC[ident]
    for candidate in (ident, label):
        found = TEXT.get(_key(candidate))
        if found:
            return found
    return None


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
