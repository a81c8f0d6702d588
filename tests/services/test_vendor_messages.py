"""Every published vendor message in tests/fixtures/hl7/vendors/ through the feed: which
vitals are stored (exactly), which values are refused alone or kept apart as another
channel, which messages are quarantined or only answered, and why."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

import pytest

from ketalog.interop.hl7_ack import build_ack
from ketalog.services.device_feed import DeviceFeed
from ketalog.store.verify import verify_store
from tests.services.test_device_feed import open_session

pytestmark = pytest.mark.both_engines

VENDORS = Path(__file__).resolve().parents[1] / "fixtures" / "hl7" / "vendors"
VITALS = ("sbp_mmhg", "dbp_mmhg", "map_mmhg", "hr_bpm", "spo2_pct", "rr_per_min",
          "etco2_mmhg", "temp_c")


@dataclass(frozen=True)
class Expect:
    sessions: tuple[tuple[str, str], ...]  # (MRN, chair) opened before the message
    ack: str  # MSA-1
    trigger: str  # MSH-9.2 of the ACK
    stored: tuple[dict[str, float], ...] = ()  # vitals rows, in time order
    quarantined: str = ""  # reason (substring) when the message waits in the quarantine
    refused: tuple[str, ...] = ()  # vitals refused alone (ERR W) while others are stored
    others: tuple[tuple[str, str, float], ...] = ()  # (vital, channel, value) kept apart
    unknown: tuple[str, ...] = ()
    source: str = ""
    kept: bool = True  # False: answered only, not in the ledger
    extra: dict[str, object] = field(default_factory=dict)


CASES: dict[str, Expect] = {
    "mindray_vs8_demo_mode": Expect(
        (("K1", "Chair 1"),), "AA", "R01",
        quarantined="the monitor is in demo mode (OBX-8 = DEMO"),
    "mindray_xh80x_sentinels": Expect(
        (("K1", "Chair 1"),), "AE", "R01",
        quarantined="no values: the monitor sent 150301^MDC_PRESS_CUFF_SYS"),
    "mindray_xh80x_waveform_w01": Expect(
        (("K1", "Chair 1"),), "AR", "W01", quarantined="ORU^W01 is not accepted"),
    "mindray_egateway": Expect(
        (("K5", "Chair 5"),), "AA", "R01",
        stored=({"spo2_pct": 98, "hr_bpm": 66, "rr_per_min": 17},),
        others=(("hr_bpm", "1.3.1", 65), ("rr_per_min", "1.3.1", 19)),
        source="MINDRAY_EGATEWAY"),
    "mindray_benevision_n19_half_bp": Expect(
        (("P10004", "Chair 2"),), "AA", "R01", stored=({"hr_bpm": 82},),
        refused=("sbp_mmhg",), source="BeneVisionN19"),
    "mindray_benevision_no_patient": Expect(
        (("K1", "Chair 1"),), "AE", "R01",
        quarantined="the message names no patient (PID-3) and no bed (PV1-3)"),
    "mindray_compatible_northern_two_temps": Expect(
        (("0001", "Chair 3"),), "AA", "R01",
        stored=({"temp_c": 38.5}, {"sbp_mmhg": 142, "dbp_mmhg": 100, "map_mmhg": 114}),
        others=(("temp_c", "1.2.2", 384.5),), source="northern"),
    "nihon_kohden_vital_nibp": Expect(
        (("26031200119", "Chair 1"),), "AA", "R01",
        stored=({"sbp_mmhg": 133, "dbp_mmhg": 77, "map_mmhg": 95},
                {"hr_bpm": 77, "spo2_pct": 99}), source="NIHON_KOHDEN"),
    "nihon_kohden_bed_only": Expect(
        (("K7", "Chair 1"), ("K8", "Chair 2")), "AA", "R01",
        stored=({"hr_bpm": 94, "spo2_pct": 100},), source="NIHON_KOHDEN"),
    "comen_nc_monitor_two_spo2": Expect(
        (("10006", "Chair 10"),), "AA", "R01",
        stored=({"spo2_pct": 97, "hr_bpm": 59, "rr_per_min": 20, "temp_c": 37.0,
                 "sbp_mmhg": 120, "dbp_mmhg": 80, "map_mmhg": 90},),
        others=(("spo2_pct", "1.3.2", 97),), source="NC_Monitor"),
    "comen_nc5_query_qry_r02": Expect(
        (("12345", "Chair 24"),), "AR", "R02", kept=False),
    "comen_nc5_adt_a08": Expect(
        (("12345", "Chair 24"),), "AR", "A08", kept=False),
    "comen_nc5_oru_nibp": Expect(
        (("12345", "Chair 24"),), "AA", "R01",
        stored=({"sbp_mmhg": 128, "dbp_mmhg": 76, "map_mmhg": 93, "hr_bpm": 89,
                 "spo2_pct": 97, "temp_c": 36.8, "rr_per_min": 18},),
        others=(("hr_bpm", "1.3.1", 88),), source="KC575235977G"),
    "ge_vsp_vitals_two_temps": Expect(
        (("HED12", "Bed 79874"),), "AA", "R01",
        stored=({"hr_bpm": 75, "temp_c": 36.8},),
        others=(("hr_bpm", "1.13.1", 72), ("temp_c", "1.26.2", 36.9)), source="VSP"),
    "ge_vsp_spo2": Expect(
        (("HED12", "Bed 79874"),), "AA", "R01", stored=({"spo2_pct": 98, "hr_bpm": 76},),
        unknown=("150458^MDC_PULS_OXIM_PERF_INDEX",), source="VSP"),
    "ge_vsp_example2": Expect(
        (("999999999", "Bed 79874"),), "AA", "R01", stored=({"hr_bpm": 80},),
        others=(("hr_bpm", "1.13.1", 80),), source="VSP"),
    "philips_intellivue_mx500_debug": Expect(
        (("12345", "Chair 1"),), "AA", "R01",
        quarantined="a debugging message (MSH-11 = D): not a patient's data"),
    "ihe_nist_acme_gateway_nibp": Expect(
        (("K1", "Chair 1"),), "AA", "R01",
        stored=({"sbp_mmhg": 120, "dbp_mmhg": 80, "map_mmhg": 93, "hr_bpm": 63},),
        source="ACME_Gateway"),
    "ihe_pcd01_acme_bp_no_mrn": Expect(
        (("789567", "Chair 1"),), "AE", "R01",
        quarantined="789567 (type PI, authority Imaginary Hospital) is not matched"),
    "ihe_pcd01_bp_training": Expect(
        (("K1", "Chair 1"),), "AA", "R01",
        quarantined="a training message (MSH-11 = T): not a patient's data"),
}


def test_every_fixture_has_a_case_and_a_source_line():
    files = sorted(p.stem for p in VENDORS.glob("*.hl7"))
    assert files == sorted(CASES) and len(files) >= 20
    readme = (VENDORS / "README.md").read_text(encoding="utf-8")
    assert all(f"`{name}.hl7`" in readme for name in files)


@pytest.mark.parametrize("name", sorted(CASES))
def test_vendor_message(staffed, clock, name):
    store, ctx = staffed
    expect = CASES[name]
    sessions = [open_session(ctx["nurse"], mrn, chair) for mrn, chair in expect.sessions]
    payload = (VENDORS / f"{name}.hl7").read_bytes()
    result = DeviceFeed(store, clock, UTC).receive(payload)
    ack = build_ack(result.ack_code, result.header, result.text, clock.now(), "A1",
                    warnings=result.warnings).decode()
    assert result.ack_code == expect.ack, result.text
    assert f"|ACK^{expect.trigger}^ACK|" in ack
    rows = store.rows("vitals", order_by="at, id")
    stored = [{k: r[k] for k in VITALS if r[k] is not None} for r in rows]
    assert stored == [dict(s) for s in expect.stored], result.text
    assert all(r["session_id"] == sessions[0] for r in rows)
    assert all(r["source"] == f"device:{expect.source}" for r in rows)
    if not expect.kept:
        assert store.count("device_messages") == 0
        return
    ledger = store.get("device_messages", result.message_id)
    if expect.quarantined:
        assert ledger["status"] == "quarantined" and expect.quarantined in ledger["reason"]
        assert ledger["raw"] == payload.decode("utf-8")
        assert not rows
    else:
        assert ledger["status"] == "stored" and ledger["source"] == expect.source
    refused = [r["field"] for r in json.loads(ledger["refused"])]
    assert refused == list(expect.refused)
    if expect.refused:
        assert len(result.warnings) == len(expect.refused) and "|W||||" in ack
        waiting = store.rows("device_messages", status="quarantined")
        assert [w["part_of"] for w in waiting] == [result.message_id]
    others = [(o["field"], o["channel"], o["value"]) for o in
              json.loads(ledger["other_channels"])]
    assert sorted(others) == sorted(expect.others)
    assert json.loads(ledger["unknown_codes"]) == list(expect.unknown)
    assert verify_store(store) == []
