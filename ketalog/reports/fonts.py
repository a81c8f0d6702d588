"""The bundled DejaVu fonts (resources/fonts): ReportLab's built-in fonts cannot print µ,
≥ or most accented names, and a PDF must read the same on every clinic's machine."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

SANS, SANS_BOLD, SANS_ITALIC, SANS_BOLD_ITALIC, MONO = (
    "DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique", "DejaVuSans-BoldOblique",
    "DejaVuSansMono")
SYSTEM_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)


class FontsMissing(RuntimeError):
    pass


def font_dirs() -> list[Path]:
    """The source tree (and an editable install), a PyInstaller bundle, then the system."""
    dirs = [Path(__file__).resolve().parents[2] / "resources" / "fonts"]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        dirs.insert(0, Path(bundle) / "resources" / "fonts")
    return dirs + list(SYSTEM_FONT_DIRS)


@cache
def register_fonts() -> str:
    """Register once per process; returns the regular face's name."""
    for folder in font_dirs():
        files = {name: folder / f"{name}.ttf" for name in
                 (SANS, SANS_BOLD, SANS_ITALIC, SANS_BOLD_ITALIC, MONO)}
        if all(f.is_file() for f in files.values()):
            for name, path in files.items():
                pdfmetrics.registerFont(TTFont(name, str(path)))
            addMapping(SANS, 0, 0, SANS)
            addMapping(SANS, 1, 0, SANS_BOLD)
            addMapping(SANS, 0, 1, SANS_ITALIC)
            addMapping(SANS, 1, 1, SANS_BOLD_ITALIC)
            return SANS
    raise FontsMissing("the DejaVu fonts for PDFs were not found in "
                       + ", ".join(str(d) for d in font_dirs()))
