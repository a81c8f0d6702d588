"""OBX-4 channels and sentinels, as properties: one vital from several channels keeps
every value (the first channel's stored, the others kept apart), two values on one
channel refuse that vital alone, and a vendor's "no value" number is never a value."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from ketalog.interop.hl7_build import oru_message
from ketalog.interop.hl7_oru import channel_of, parse_oru
from ketalog.interop.hl7_vitals import SENTINELS

AT = datetime(2026, 11, 24, 13, 58, tzinfo=UTC)
TEMPS = st.lists(st.tuples(st.integers(1, 4), st.sampled_from([36.1, 36.6, 37.2, 38.0])),
                 min_size=1, max_size=6)


def temp_obx(channel: int, value: float) -> str:
    return (f"OBX|{{n}}|NM|150344^MDC_TEMP^MDC|1.26.{channel}.1|{value}|"
            "268192^MDC_DIM_DEGC^MDC|||||R|||{ts}")


@given(TEMPS)
def test_every_channel_value_is_stored_kept_apart_or_refused(temps):
    message = parse_oru(oru_message("H1", {"hr_bpm": 70}, AT,
                                    extra_obx=[temp_obx(c, v) for c, v in temps]))
    values = {k: v for r in message.readings for k, v in r.values.items()}
    assert values["hr_bpm"] == 70  # the other vital is never lost
    first_channel, first_value = temps[0]
    same = {v for c, v in temps if c == first_channel}
    if len(same) > 1:
        assert "temp_c" not in values
        assert [r.field for r in message.refused] == ["temp_c"]
        return
    assert values["temp_c"] == first_value
    kept = {(o.channel, o.value) for r in message.readings for o in r.others}
    assert kept == {(f"1.26.{c}", v) for c, v in temps if c != first_channel}
    assert message.readings[0].channels["temp_c"] == f"1.26.{first_channel}"


@given(st.sampled_from(sorted(SENTINELS)))
def test_sentinels_are_no_value(sentinel):
    obx = f"OBX|{{n}}|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.3.1.150456|{sentinel!r}|%|||||R|||{{ts}}"
    message = parse_oru(oru_message("H2", {"hr_bpm": 70}, AT, extra_obx=[obx]))
    assert message.readings[0].values == {"hr_bpm": 70}
    assert message.no_value and not message.refused


@given(st.lists(st.integers(0, 99).map(str), min_size=0, max_size=6))
def test_channel_of_is_mds_vmd_channel(parts):
    sub_id = ".".join(parts)
    channel = channel_of(sub_id)
    if len(parts) >= 4:
        assert channel == ".".join(parts[:3])
    else:
        assert channel == sub_id
