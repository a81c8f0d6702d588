"""The monitor-CSV parser on its own (pure): columns by name or mapping, times, numbers,
line-numbered errors, and a fuzz test that it raises nothing but its own error."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketalog.interop.csv_vitals import (
    VitalsCsvError,
    decode,
    parse_mapping,
    parse_vitals_csv,
)

PLUS1 = timezone(timedelta(hours=1))


def test_our_own_columns_with_offsets_zeros_and_missing():
    text = ("time,sbp_mmhg,dbp_mmhg,hr_bpm,spo2_pct,rr_per_min,temp_c\n"
            "2026-11-24T09:00:00+01:00,120,80,70,98,0,36.6\n"
            "2026-11-24T09:01:00Z,,,72,--,14,\n")
    parsed = parse_vitals_csv(text)
    assert parsed.ok and parsed.error_count == 0
    first, second = parsed.readings
    assert first.at == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert first.values == {"sbp_mmhg": 120, "dbp_mmhg": 80, "hr_bpm": 70, "spo2_pct": 98,
                            "rr_per_min": 0, "temp_c": 36.6}
    assert second.values == {"hr_bpm": 72, "rr_per_min": 14}
    assert (first.line, second.line) == (2, 3)


def test_monitor_names_semicolons_decimal_comma_date_and_time_columns():
    text = ("Date;Time;NIBP Sys (mmHg);NIBP Dia;PR;SpO2;Temp F;Alarm\n"
            "24.11.2026;09:00:05;118;76;66;97;98,6;none\n")
    parsed = parse_vitals_csv(text, {"sbp_mmhg": "NIBP Sys (mmHg)", "dbp_mmhg": "nibp dia"},
                              time_format="%d.%m.%Y %H:%M:%S", tz=PLUS1)
    assert parsed.error_count == 0, parsed.errors
    reading = parsed.readings[0]
    assert reading.at == datetime(2026, 11, 24, 9, 0, 5, tzinfo=PLUS1)
    assert reading.values == {"sbp_mmhg": 118, "dbp_mmhg": 76, "hr_bpm": 66, "spo2_pct": 97,
                              "temp_c": 37.0}
    assert parsed.delimiter == ";"
    assert parsed.ignored == ("Alarm",)
    assert parsed.columns["time"] == "Time" and parsed.columns["date"] == "Date"


def test_every_bad_line_is_reported_with_its_number():
    text = ("time,sbp_mmhg,dbp_mmhg,hr_bpm\n"
            "2026-11-24T09:00:00Z,120,80,70\n"
            "2026-11-24T09:01:00Z,400,80,70\n"      # implausible SBP
            "yesterday,120,80,70\n"                  # bad time
            "2026-11-24T09:03:00Z,80,120,70\n"      # DBP above SBP
            "2026-11-24T09:04:00Z,120,80,seventy\n"  # not a number
            "2026-11-24T09:05:00Z,120,,70\n"        # SBP without DBP
            "2026-11-24T09:00:00Z,120,80,70\n"      # line 2 again
            "2026-11-24T09:00:00Z,121,81,71\n"      # same time, another reading: fine
            "2026-11-24T09:07:00Z,120,80\n"         # cut-off line
            "2026-11-24T09:08:00,120,80,70\n")      # naive: local time, fine
    parsed = parse_vitals_csv(text, tz=UTC)
    lines = [e.line for e in parsed.errors]
    assert lines == [3, 4, 5, 6, 7, 8, 10]
    messages = {e.line: e.message for e in parsed.errors}
    assert "SBP 400 mmHg is outside the plausible range 40-300" in messages[3]
    assert "'yesterday'" in messages[4] and "ISO-8601" in messages[4]
    assert "must be below SBP" in messages[5]
    assert "hr_bpm: 'seventy' is not a number" in messages[6]
    assert "needs both SBP and DBP" in messages[7]
    assert "same reading (time and values) as line 2" in messages[8]
    assert "only 3 fields" in messages[10]
    assert str(parsed.errors[0]).startswith("line 3: ")
    assert [r.line for r in parsed.readings] == [2, 9, 11]
    assert not parsed.ok


def test_line_numbers_count_physical_lines_inside_quotes():
    text = ('time,hr_bpm,artifact,artifact_reason\n'
            '2026-11-24T09:00:00Z,70,1,"moved,\nthen ""coughed"""\n'
            '2026-11-24T09:01:00Z,999,0,\n')
    parsed = parse_vitals_csv(text)
    assert parsed.readings[0].artifact and parsed.readings[0].artifact_reason == \
        'moved,\nthen "coughed"'
    assert [(e.line, "HR 999" in e.message) for e in parsed.errors] == [(4, True)]


def test_errors_are_capped_but_counted():
    rows = "".join(f"2026-11-24T09:{i // 60:02d}:{i % 60:02d}Z,999\n" for i in range(500))
    parsed = parse_vitals_csv("time,hr_bpm\n" + rows, max_errors=50)
    assert parsed.error_count == 500 and len(parsed.errors) == 50


def test_rows_without_values_are_skipped_and_counted():
    parsed = parse_vitals_csv("time,hr_bpm,spo2_pct\n2026-11-24T09:00:00Z,--,\n"
                              "\n2026-11-24T09:01:00Z,70,99\n")
    assert parsed.skipped_empty == 1 and len(parsed.readings) == 1


def test_artifact_needs_reason_and_map_derived_drops_map():
    parsed = parse_vitals_csv("time,sbp_mmhg,dbp_mmhg,map_mmhg,map_derived,artifact\n"
                              "2026-11-24T09:00:00Z,120,80,93.3,true,yes\n"
                              "2026-11-24T09:01:00Z,120,80,95,false,maybe\n")
    assert "artifact_reason" in parsed.errors[0].message
    assert "'maybe' is not a yes/no" in parsed.errors[1].message
    parsed = parse_vitals_csv("time,sbp_mmhg,dbp_mmhg,map_mmhg,map_derived\n"
                              "2026-11-24T09:00:00Z,120,80,93.3,true\n")
    assert parsed.readings[0].values == {"sbp_mmhg": 120, "dbp_mmhg": 80}


@pytest.mark.parametrize(("text", "mapping", "message"), [
    ("", None, "empty"),
    ("\n\n", None, "empty"),
    ("hr_bpm\n70\n", None, "no time column"),
    ("time,foo\n2026-11-24T09:00:00Z,1\n", None, "no vitals column"),
    ("time,hr\n", {"pulse": "hr"}, "unknown column"),
    ("time,hr\n", {"hr_bpm": "PR"}, "not in the file's header"),
    ("time,hr\x00\n", None, "NUL"),
])
def test_file_level_problems(text, mapping, message):
    with pytest.raises(VitalsCsvError, match=message):
        parse_vitals_csv(text, mapping)


def test_mapping_and_decoding_helpers():
    assert parse_mapping(["hr_bpm=PR", " time = Zeit "]) == {"hr_bpm": "PR", "time": "Zeit"}
    with pytest.raises(VitalsCsvError, match="ourcol=theircol"):
        parse_mapping(["hr_bpm"])
    assert decode("\ufefftime,Temp °C\n".encode()) == "time,Temp °C\n"
    assert decode("Temp °C".encode("cp1252")) == "Temp °C"


def test_progress_is_reported():
    rows = "".join(f"2026-11-24T{9 + i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z,70\n"
                   for i in range(5000))
    seen: list[tuple[int, int]] = []
    parse_vitals_csv("time,hr_bpm\n" + rows, progress=lambda a, b: seen.append((a, b)))
    assert len(seen) >= 3 and seen[-1][0] == seen[-1][1]


def _csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


cells = st.one_of(st.text(max_size=12), st.sampled_from(
    ["", "--", "120", "80", "0", "-5", "1e3", "nan", "inf", "36,6", "2026-11-24T09:00:00Z",
     "2026-13-45T99:99:99", "1", "true", "x", '"', "\r", "\n"]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(header=st.lists(st.sampled_from(["time", "sbp_mmhg", "dbp_mmhg", "map_mmhg", "hr_bpm",
                                        "spo2_pct", "artifact", "map_derived", "Temp F",
                                        "date", "junk", ""]), min_size=1, max_size=7),
       rows=st.lists(st.lists(cells, max_size=8), max_size=8),
       raw=st.text(max_size=200), use_raw=st.booleans())
def test_fuzz_only_our_own_errors(header, rows, raw, use_raw):
    text = raw if use_raw else _csv([header, *rows])
    try:
        parsed = parse_vitals_csv(text, tz=UTC)
    except VitalsCsvError:
        return
    for reading in parsed.readings:
        assert reading.at.tzinfo is not None and reading.values
    assert parsed.error_count >= len(parsed.errors)
