"""tools/frozen_smoke.py, the check `make dist` runs on the build. Its PDF check runs
here always; the whole smoke runs only where a build exists (never in CI, which does
not build: PyInstaller needs binutils and minutes of CPU)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BINARY = ROOT / "dist" / "ketalog" / "ketalog"


def _module():  # noqa: ANN202 - the script's module
    spec = importlib.util.spec_from_file_location("frozen_smoke",
                                                  ROOT / "tools" / "frozen_smoke.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pdf_check_wants_embedded_dejavu(tmp_path):
    from reportlab.pdfgen.canvas import Canvas

    from ketalog.reports.fonts import register_fonts

    smoke = _module()
    (tmp_path / "no.pdf").write_bytes(b"not a pdf at all" * 100)
    with pytest.raises(smoke.SmokeFailed, match="not a PDF"):
        smoke.check_pdf(tmp_path / "no.pdf")
    for name, font in (("helvetica.pdf", "Helvetica"), ("dejavu.pdf", register_fonts())):
        canvas = Canvas(str(tmp_path / name))
        canvas.setFont(font, 12)
        canvas.drawString(72, 720, "ketamine 0.5 mg/kg/h, µ ≥")
        canvas.save()
    with pytest.raises(smoke.SmokeFailed, match="not embedded"):
        smoke.check_pdf(tmp_path / "helvetica.pdf")
    smoke.check_pdf(tmp_path / "dejavu.pdf")


@pytest.mark.skipif(not BINARY.exists(), reason="no build: `make dist` makes and checks one")
def test_the_built_binary_passes_the_smoke_test():
    assert _module().main([str(BINARY)]) == 0
