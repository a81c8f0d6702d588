"""Names in any script and of any length on the PDF header: CJK characters are embedded
in the fallback font (not boxes), and an 89-character name wraps while MRN and DOB stay
whole on the page."""

from __future__ import annotations

import io
import subprocess
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from ketalog.domain.entities import Bag
from ketalog.reports.fonts import CJK, runs, wrap_text
from ketalog.services import sessions as svc
from ketalog.services.exports import export_session_pdf
from ketalog.services.patients import PatientInput, create_patient

LONG_FAMILY = "Wolfeschlegelsteinhausenbergerdorff-Montgomery-Featherstonehaugh-Cholmondeley"
LONG_GIVEN = "Maximiliana Ottilie"  # with the family name, 89+ characters


def _pdf(ctx, tmp_path: Path, family: str, given: str, mrn: str) -> tuple[Path, str]:
    nurse = ctx["nurse"]
    patient = create_patient(nurse, PatientInput(mrn, family, given, date(1980, 5, 17)))
    session = svc.start_session(nurse, svc.SessionStart(patient.id, 70.0,
                                                        Bag("ketamine", 1.0, 100.0)))
    out = tmp_path / f"{mrn}.pdf"
    export_session_pdf(nurse, session.id, out)
    reader = PdfReader(io.BytesIO(out.read_bytes()))
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    return out, (reader.pages[0].extract_text() or "") + "\nFONTS " + " ".join(sorted(fonts))


def test_a_cjk_name_prints_in_the_embedded_fallback_font(staffed, tmp_path):
    _, ctx = staffed
    out, text = _pdf(ctx, tmp_path, "王", "小明", "CJK-1")
    assert "王" in text and "小明" in text
    assert "NotoSansCJK" in text.split("FONTS")[1]  # embedded: reads the same everywhere
    png = tmp_path / "page"
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(out), str(png)],
                   check=True)


def test_a_long_name_wraps_and_mrn_and_dob_stay_on_the_page(staffed, tmp_path):
    _, ctx = staffed
    assert len(f"{LONG_FAMILY.upper()}, {LONG_GIVEN}") >= 89
    _, text = _pdf(ctx, tmp_path, LONG_FAMILY, LONG_GIVEN, "LONG-0001")
    assert "MRN LONG-0001" in text and "DOB 1980-05-17" in text
    assert "WOLFESCHLEGEL" in text


@pytest.mark.parametrize("text", ["王小明", "Ann Lee", "김민준 Kim", "山田 太郎"])
def test_runs_rebuild_the_text_and_use_the_fallback_only_for_cjk(text):
    pieces = runs(text, "DejaVuSans-Bold")
    assert "".join(p for p, _ in pieces) == text
    assert all((f == CJK) == (ord(p[0]) > 0x2E7F) for p, f in pieces)


def test_wrapping_never_exceeds_its_lines_and_marks_a_cut():
    lines = wrap_text("word " * 80, "DejaVuSans-Bold", 8, 120, 2)
    assert len(lines) == 2 and lines[-1].endswith("…")
    assert wrap_text("Short Name", "DejaVuSans-Bold", 8, 120, 2) == ["Short Name"]
