"""CSV cells: formula injection neutralised on every CSV ketalog writes (OWASP), the
exact inverse on reading, booleans in spreadsheet languages and UTF-16 files."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketalog.interop.csv_cells import FORMULA_START, flag_word, neutralise, restore
from ketalog.interop.csv_export import to_csv_text
from ketalog.interop.csv_vitals import decode, parse_vitals_csv


@given(st.text())
def test_neutralise_then_restore_is_exact_and_never_a_formula(text):
    written = neutralise(text)
    assert restore(written) == text
    assert not written.startswith(FORMULA_START)


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://x\",\"click\")", "+1+cmd|' /C calc'!A0",
                                  "-2+3", "@SUM(A1)", "\tTAB", "\rCR"])
def test_formula_cells_are_written_as_text(cell):
    text = to_csv_text((["note"], [[cell]]))
    row = next(csv.reader(io.StringIO(text[text.index("\r\n") + 2:])))
    assert row == ["'" + cell]


def test_plain_cells_are_untouched():
    assert to_csv_text((["a", "b"], [["120", "note 'quoted' inside"]])) == \
        "a,b\r\n120,note 'quoted' inside\r\n"


@pytest.mark.parametrize("yes, no", [("TRUE", "FALSE"), ("WAHR", "FALSCH"), ("VRAI", "FAUX"),
                                     ("VERDADERO", "FALSO"), ("VERO", "FALSO"),
                                     ("WAAR", "ONWAAR"), ("VERDADEIRO", "FALSO"),
                                     ("SANT", "FALSKT"), ("PRAWDA", "FAŁSZ"),
                                     ("ИСТИНА", "ЛОЖЬ"), ("ja", "nein"), ("oui", "non")])
def test_booleans_in_spreadsheet_languages(yes, no):
    assert flag_word(yes) is True and flag_word(no) is False
    assert flag_word(yes.lower()) is True and flag_word(f" {no} ") is False
    assert flag_word("maybe") is None


VITALS = ("time,sbp_mmhg,dbp_mmhg,hr_bpm,artifact,artifact_reason\r\n"
          "2026-11-24T13:00:00+00:00,120,80,70,FALSCH,\r\n"
          "2026-11-24T13:05:00+00:00,121,81,71,WAHR,Manschette verrutscht\r\n")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-8", "utf-8-sig"])
def test_utf16_and_german_booleans_import(encoding):
    data = VITALS.encode(encoding)
    parsed = parse_vitals_csv(decode(data))
    assert parsed.ok and [r.artifact for r in parsed.readings] == [False, True]
    assert parsed.readings[1].artifact_reason == "Manschette verrutscht"


def test_excel_unicode_text_is_tab_separated_utf16():
    data = VITALS.replace(",", "\t").encode("utf-16")
    parsed = parse_vitals_csv(decode(data))
    assert parsed.ok and parsed.delimiter == "\t" and len(parsed.readings) == 2


def test_an_artifact_reason_that_looks_like_a_formula_round_trips():
    table = (["time", "sbp_mmhg", "dbp_mmhg", "artifact", "artifact_reason"],
             [["2026-11-24T13:00:00+00:00", "120", "80", "true", "=cuff moved"],
              ["2026-11-24T13:05:00+00:00", "121", "81", "true", "'quoted"]])
    parsed = parse_vitals_csv(to_csv_text(table))
    assert [r.artifact_reason for r in parsed.readings] == ["=cuff moved", "'quoted"]
