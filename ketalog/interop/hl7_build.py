"""Build ORU^R01 messages the way monitor gateways send them: one OBR, one OBX per
parameter with LOINC or MDC codes. Used by the tests, the benchmark and the demo
sender (`ketalog send-hl7`), so every shape the listener is tested with is written once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

LOINC_OBX: dict[str, tuple[str, str, str]] = {
    # field: (code^text^system, unit^text^system, value type)
    "sbp_mmhg": ("8480-6^Systolic blood pressure^LN", "mm[Hg]^mmHg^UCUM", "NM"),
    "dbp_mmhg": ("8462-4^Diastolic blood pressure^LN", "mm[Hg]^mmHg^UCUM", "NM"),
    "map_mmhg": ("8478-0^Mean blood pressure^LN", "mm[Hg]^mmHg^UCUM", "NM"),
    "hr_bpm": ("8867-4^Heart rate^LN", "/min^beats/min^UCUM", "NM"),
    "spo2_pct": ("59408-5^SpO2^LN", "%^percent^UCUM", "NM"),
    "rr_per_min": ("9279-1^Respiratory rate^LN", "/min^breaths/min^UCUM", "NM"),
    "etco2_mmhg": ("19891-1^EtCO2^LN", "mm[Hg]^mmHg^UCUM", "NM"),
    "temp_c": ("8310-5^Body temperature^LN", "Cel^degC^UCUM", "NM"),
}


def hl7_time(when: datetime) -> str:
    utc = when.astimezone(UTC)
    return utc.strftime("%Y%m%d%H%M%S") + "+0000"


def oru_message(control_id: str, values: Mapping[str, float], at: datetime, *,
                mrn: str = "", bed: str = "", sending_app: str = "MONITOR_GW",
                extra_obx: Sequence[str] = (), obx_time: bool = True) -> str:
    """One ORU^R01 with a reading at `at` (OBR-7, and OBX-14 unless obx_time=False)."""
    ts = hl7_time(at)
    segments = [
        f"MSH|^~\\&|{sending_app}|KETA_CLINIC|ketalog|KETA_CLINIC|{ts}||ORU^R01^ORU_R01|"
        f"{control_id}|P|2.6|||NE|AL|||||IHE PCD ORU-R01 2006^HL7^2.16.840.1.113883.9.n.m^HL7",
        f"PID|||{mrn}^^^KETA^MR||^^^^^^U",
        f"PV1||O|{bed and f'INFUSION^^{bed}^KETA'}",
        f"OBR|1|{control_id}^{sending_app}|{control_id}^{sending_app}|"
        f"182777000^monitoring of patient^SCT|||{ts}",
    ]
    n = 0
    for field, value in values.items():
        code, unit, kind = LOINC_OBX[field]
        n += 1
        segments.append(f"OBX|{n}|{kind}|{code}|1.{n}|{value:g}|{unit}|||||R|||"
                        f"{ts if obx_time else ''}")
    for obx in extra_obx:
        n += 1
        segments.append(obx.replace("{n}", str(n)).replace("{ts}", ts))
    return "\r".join(segments) + "\r"
