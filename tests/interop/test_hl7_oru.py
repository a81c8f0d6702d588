"""The ORU^R01 reader on message shapes real gateways send, and its refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from ketalog.interop.hl7_ack import build_ack, escape, parse_ack
from ketalog.interop.hl7_build import oru_message
from ketalog.interop.hl7_errors import (
    Hl7MappingError,
    Hl7ParseError,
    Hl7UnsupportedMessage,
)
from ketalog.interop.hl7_oru import decode, parse_header, parse_oru, parse_time

AT = datetime(2026, 11, 24, 13, 55, 0, tzinfo=UTC)

# IHE PCD-01 as a Philips/GE style gateway sends it: MDC codes, MDC units, OBR-7 only.
PCD01 = "\r".join([
    "MSH|^~\\&|IVUE_GW^0080A1^EUI-64||ketalog||20261124145500+0100||ORU^R01^ORU_R01|MSG00042|P|"
    "2.6|||NE|AL||8859/1|||IHE PCD ORU-R01 2006^HL7^2.16.840.1.113883.9.n.m^HL7",
    "PID|||K1001^^^KETA^MR~123-45-6789^^^SSA^SS||Ruiz^Ana^^^^^L||19800101|F",
    "PV1||I|KETA^^CHAIR2^KETA",
    "OBR|1|A1^GW|A1^GW|182777000^monitoring of patient^SCT|||20261124145500+0100",
    "OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1|||||||X",
    "OBX|2|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1.1.1.1|128|266016^MDC_DIM_MMHG^MDC|||||R",
    "OBX|3|NM|150022^MDC_PRESS_BLD_NONINV_DIA^MDC|1.1.1.2|79|266016^MDC_DIM_MMHG^MDC|||||R",
    "OBX|4|NM|150023^MDC_PRESS_BLD_NONINV_MEAN^MDC|1.1.1.3|95|266016^MDC_DIM_MMHG^MDC|||||R",
    "OBX|5|NM|147842^MDC_ECG_HEART_RATE^MDC|1.2.1.1|71|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R",
    "OBX|6|NM|149530^MDC_PULS_OXIM_PULS_RATE^MDC|1.3.1.1|73|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R",
    "OBX|7|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.3.1.2|97|262688^MDC_DIM_PERCENT^MDC|||||R",
    "OBX|8|NM|151562^MDC_RESP_RATE^MDC|1.4.1.1|14|264928^MDC_DIM_RESP_PER_MIN^MDC|||||R",
    "OBX|9|NM|151708^MDC_AWAY_CO2_ET^MDC|1.5.1.1|5.1|kPa^kPa^UCUM|||||R",
    "OBX|10|NM|150344^MDC_TEMP^MDC|1.6.1.1|98.6|266560^MDC_DIM_FAHR^MDC|||||R",
    "OBX|11|NA|131329^MDC_ECG_ELEC_POTL_I^MDC|1.7.1.1|1^2^3|||||R",
]) + "\r"

# A Mindray-style gateway: local numeric codes with text, plain units, a trend of HR
# samples (the same OBX code repeated with its own OBX-14), SpO2 without a unit.
LOCAL_TREND = "\n".join([  # some gateways separate segments with LF
    "MSH|^~\\&|BeneVision|Mindray|||20261124135500||ORU^R01|7781|P|2.3.1",
    "PID|||K1001",
    "PV1||I|^^CHAIR2",
    "OBR||||Mindray Monitor|||20261124135500",
    "OBX||NM|101^HR^99MNDRY||68|bpm|||||F|||20261124135300",
    "OBX||NM|101^HR^99MNDRY||70|bpm|||||F|||20261124135400",
    "OBX||NM|101^HR^99MNDRY||72|bpm|||||F|||20261124135500",
    "OBX||NM|160^SpO2^99MNDRY||98||||||F|||20261124135500",
    "OBX||NM|151^RR^99MNDRY||15|rpm|||||F|||20261124135500",
    "OBX||NM|170^NIBP-S^99MNDRY||131|mmHg|||||F|||20261124135500",
    "OBX||NM|171^NIBP-D^99MNDRY||82|mmHg|||||F|||20261124135500",
    "OBX||NM|200^T1^99MNDRY||36.8|\u00b0C|||||F|||20261124135500",
    "OBX||ST|0^ALARM^99MNDRY||HR HIGH||||||F",
])


def test_pcd01_gateway_message_maps_every_vital_with_units_converted():
    msg = parse_oru(PCD01)
    assert msg.header.sending_app == "IVUE_GW"
    assert msg.header.control_id == "MSG00042"
    assert msg.patient_ids == ("K1001", "123-45-6789")
    assert msg.location[2] == "CHAIR2"
    assert len(msg.readings) == 1
    reading = msg.readings[0]
    assert reading.at == datetime(2026, 11, 24, 13, 55, tzinfo=UTC)  # OBR-7, +0100 honoured
    assert reading.values == {"sbp_mmhg": 128, "dbp_mmhg": 79, "map_mmhg": 95,
                              "hr_bpm": 71,  # ECG HR wins over the oximeter's pulse rate
                              "spo2_pct": 97, "rr_per_min": 14, "etco2_mmhg": 38.3,
                              "temp_c": 37.0}
    assert "131329^MDC_ECG_ELEC_POTL_I" in msg.ignored


def test_local_codes_repeated_obx_and_lf_separators():
    msg = parse_oru(LOCAL_TREND, local_tz=timezone(timedelta(hours=-5)))
    assert [r.at for r in msg.readings] == [
        datetime(2026, 11, 24, 18, 53 + i, tzinfo=UTC) for i in range(3)]
    assert [r.values.get("hr_bpm") for r in msg.readings] == [68, 70, 72]
    last = msg.readings[-1].values
    assert last == {"hr_bpm": 72, "spo2_pct": 98, "rr_per_min": 15, "sbp_mmhg": 131,
                    "dbp_mmhg": 82, "temp_c": 36.8}
    assert msg.ignored == ("0^ALARM",)


def test_latin1_bytes_decode():
    assert decode("36.8|\u00b0C".encode("latin-1")) == "36.8|\u00b0C"
    assert decode("\u00b0C".encode()) == "\u00b0C"


def test_built_message_round_trips():
    text = oru_message("C1", {"sbp_mmhg": 120, "dbp_mmhg": 80, "hr_bpm": 64}, AT, mrn="K9",
                       bed="CHAIR1")
    msg = parse_oru(text)
    assert msg.patient_ids == ("K9",) and "CHAIR1" in msg.location
    assert msg.readings[0].values == {"sbp_mmhg": 120, "dbp_mmhg": 80, "hr_bpm": 64}
    assert msg.readings[0].at == AT


def test_time_falls_back_from_obx14_to_obr7():
    text = oru_message("C2", {"hr_bpm": 60}, AT, obx_time=False)
    assert parse_oru(text).readings[0].at == AT


@pytest.mark.parametrize("obx, problem", [
    ("OBX|{n}|NM|8310-5^Body temperature^LN||37.1||||||F|||{ts}", "has no unit"),
    ("OBX|{n}|NM|8480-6^SBP^LN||120|||||||F|||{ts}", "has no unit"),
    ("OBX|{n}|NM|19891-1^EtCO2^LN||5|%|||||F|||{ts}", "not one ketalog can convert"),
    ("OBX|{n}|NM|8867-4^HR^LN||fast|/min|||||F|||{ts}", "is not a number"),
    ("OBX|{n}|NM|8867-4^HR^LN||NaN|/min|||||F|||{ts}", "not a finite number"),
    ("OBX|{n}|NM|8867-4^HR^LN||71|/min|||||F|||{ts}", "two different values"),
    ("OBX|{n}|NM|9279-1^RR^LN||12|/min|||||F|||2026", "not an HL7 time"),
    ("OBX|{n}|NM|9279-1^RR^LN||12|/min|||||F|||202613320000", "not a valid date"),
])
def test_refuses_to_guess_one_value_alone(obx, problem):
    """The observation ketalog would have to guess about is refused with its reason; the
    message's other vitals are kept (a conflict refuses that vital, HR here)."""
    text = oru_message("C3", {"hr_bpm": 70, "spo2_pct": 97}, AT, extra_obx=[obx])
    message = parse_oru(text)
    assert len(message.refused) == 1 and problem in message.refused[0].reason
    kept = {k: v for r in message.readings for k, v in r.values.items()}
    assert kept["spo2_pct"] == 97
    if "two different" in problem:
        assert "hr_bpm" not in kept and message.refused[0].field == "hr_bpm"
    else:
        assert kept["hr_bpm"] == 70


def test_missing_unit_is_fine_where_the_vital_has_one_unit():
    text = oru_message("C4", {}, AT, extra_obx=[
        "OBX|{n}|NM|8867-4^HR^LN||70||||||F|||{ts}",
        "OBX|{n}|NM|9279-1^RR^LN||12||||||F|||{ts}",
        "OBX|{n}|NM|59408-5^SpO2^LN||99||||||F|||{ts}"])
    assert parse_oru(text).readings[0].values == {"hr_bpm": 70, "rr_per_min": 12,
                                                  "spo2_pct": 99}


def test_identical_repeats_and_cancelled_rows_are_harmless():
    text = oru_message("C5", {"hr_bpm": 70}, AT, extra_obx=[
        "OBX|{n}|NM|8867-4^HR^LN||70|/min|||||F|||{ts}",
        "OBX|{n}|NM|59408-5^SpO2^LN||12|%|||||X|||{ts}",
        "OBX|{n}|NM|9279-1^RR^LN|||/min|||||F|||{ts}"])
    assert parse_oru(text).readings[0].values == {"hr_bpm": 70}


def test_rejections():
    with pytest.raises(Hl7ParseError):
        parse_oru("hello")
    with pytest.raises(Hl7ParseError, match="control id"):
        parse_oru("MSH|^~\\&|A|B|||20260101||ORU^R01||P|2.5\r")
    with pytest.raises(Hl7UnsupportedMessage) as info:
        parse_oru("MSH|^~\\&|A|B|||20260101||ADT^A01|X1|P|2.5\rPID|||1\r")
    assert info.value.ack_code == "AR" and info.value.header.control_id == "X1"


def test_parse_time_forms():
    assert parse_time("202611241355") == parse_time("202611241355", None)
    assert parse_time("20261124135501.25-0500") == datetime(2026, 11, 24, 18, 55, 1, 250000,
                                                             tzinfo=UTC)
    with pytest.raises(Hl7MappingError):
        parse_time("20261124135501+2500")


def test_ack_carries_code_control_id_and_escaped_reason():
    header = parse_header(PCD01)
    ack = build_ack("AE", header, "SBP 900|bad ^ value", AT, "ACK1")
    text = ack.decode()
    assert text.startswith("MSH|^~\\&|ketalog||IVUE_GW||20261124135500+0000||ACK^R01^ACK|ACK1|P|2.6\r")
    assert parse_ack(ack) == ("AE", "MSG00042", escape("SBP 900|bad ^ value"))
    assert "\\F\\" in text and "ERR|||207^Application internal error^HL70357|E" in text
    assert parse_ack(build_ack("AA", header, "ok", AT, "ACK2"))[0] == "AA"
    assert parse_ack(build_ack("AR", None, "garbage", AT, "ACK3"))[:2] == ("AR", "")
    with pytest.raises(ValueError):
        build_ack("OK", header, "", AT, "x")


def test_escaped_text_is_unescaped():
    text = oru_message("E\\S\\1", {}, AT, mrn="K\\T\\9", extra_obx=[
        "OBX|{n}|NM|X1^Heart\\F\\rate^L||70|/min|||||F|||{ts}"])
    msg = parse_oru(text)
    assert msg.header.control_id == "E^1" and msg.patient_ids == ("K&9",)
    assert msg.readings[0].values == {"hr_bpm": 70}
