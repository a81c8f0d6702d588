"""Fuzzing the ORU reader: whatever arrives, only our own Hl7Error escapes."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from ketalog.interop.hl7_build import oru_message
from ketalog.interop.hl7_errors import Hl7Error
from ketalog.interop.hl7_oru import OruMessage, decode, parse_oru

BASE = oru_message("F1", {"sbp_mmhg": 120, "dbp_mmhg": 80, "hr_bpm": 70, "spo2_pct": 98,
                          "temp_c": 36.9}, datetime(2026, 11, 24, 13, 0, tzinfo=UTC),
                   mrn="K1", bed="CHAIR1")
HL7_CHARS = st.sampled_from(list("|^~\\&\r\n0123456789.+-MSHOBXPIDNM ") + ["\x00", "\u00b0"])


def outcome(text: str) -> OruMessage | Hl7Error:
    try:
        return parse_oru(text)
    except Hl7Error as exc:  # anything else fails the test
        return exc


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes(data):
    outcome(decode(data))


@settings(max_examples=400, deadline=None)
@given(st.text(HL7_CHARS, max_size=300))
def test_random_hl7_alphabet(text):
    outcome("MSH|^~\\&|" + text)


@settings(max_examples=600, deadline=None)
@given(st.integers(0, len(BASE) - 1), st.integers(0, 40), st.text(HL7_CHARS, max_size=12))
def test_mutated_real_message(at, cut, insert):
    result = outcome(BASE[:at] + insert + BASE[at + cut:])
    if isinstance(result, OruMessage):
        for reading in result.readings:
            assert reading.at.tzinfo is not None
            assert all(isinstance(v, float) for v in reading.values.values())


# OBX rows are split by ketalog (python-hl7's containers were most of the feed's cost);
# every value the reader takes from a row must be what python-hl7 would have given.
ENCODINGS = st.sampled_from(["^~\\&", "^~\\&#", "^~", "@#\\$", "^~\\"])
OBX_PIECES = st.sampled_from(list("|^~\\&@#$ab1.E ") + ["\\X41\\", "\\S\\", "\\F\\", "\u00b0"])


@settings(max_examples=500, deadline=None)
@given(ENCODINGS, st.lists(OBX_PIECES, max_size=60).map("".join))
def test_our_obx_split_reads_like_python_hl7(encoding, body):
    import hl7

    from ketalog.interop.hl7_oru import _get, _repetitions, _split_obx

    text = "OBX|" + body
    message = hl7.parse(f"MSH|{encoding}|A\r{text}")
    reference = message.segments("OBX")[0]
    ours = _split_obx(text, message.separators)
    assert len(ours) == len(reference)
    for field in range(0, len(reference) + 2):
        assert list(_repetitions(ours, field, escapes=message)) == list(_repetitions(reference, field))
        for rep in (1, 2, 3):
            for comp in (1, 2, 3, 4):
                assert _get(ours, field, rep, comp, message) == _get(reference, field, rep,
                                                                     comp), (field, rep, comp)
