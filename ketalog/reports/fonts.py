"""The bundled DejaVu fonts (resources/fonts): ReportLab's built-in fonts cannot print µ,
≥ or most accented names, and a PDF must read the same on every clinic's machine. Names
in Chinese, Japanese or Korean fall back, character by character, to a subset of Noto
Sans CJK SC (resources/fonts/NotoSansCJKsc-Subset.ttf, 3.7 MB, OFL; made by
tools/make_cjk_font.py): every character of GB 2312, JIS X 0208 and KS X 1001. Rarer
characters still print as boxes; there is no bold CJK face (bold text uses the regular)."""

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
CJK = "NotoSansCJKsc-Subset"
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
            cjk = folder / f"{CJK}.ttf"
            if cjk.is_file():
                pdfmetrics.registerFont(TTFont(CJK, str(cjk)))
            return SANS
    raise FontsMissing("the DejaVu fonts for PDFs were not found in "
                       + ", ".join(str(d) for d in font_dirs()))


def _covers(font: str, char: str) -> bool:
    face = pdfmetrics.getFont(font).face  # type: ignore[attr-defined]
    return ord(char) in face.charToGlyph


def runs(text: str, font: str) -> list[tuple[str, str]]:
    """(piece, font) runs: each character in `font` when it has the glyph, else in the
    CJK fallback when that has it (else `font`, which prints its box)."""
    register_fonts()
    fallback = CJK in pdfmetrics.getRegisteredFontNames()
    pieces: list[tuple[str, str]] = []
    for char in text:
        use = font
        if fallback and not _covers(font, char) and _covers(CJK, char):
            use = CJK
        if pieces and pieces[-1][1] == use:
            pieces[-1] = (pieces[-1][0] + char, use)
        else:
            pieces.append((char, use))
    return pieces


def text_width(text: str, font: str, size: float) -> float:
    return sum(pdfmetrics.stringWidth(piece, face, size) for piece, face in runs(text, font))


def draw_text(canvas: object, x: float, y: float, text: str, font: str, size: float) -> float:
    """Draw `text` with the fallback where needed; returns the width drawn."""
    for piece, face in runs(text, font):
        canvas.setFont(face, size)  # type: ignore[attr-defined]
        canvas.drawString(x, y, piece)  # type: ignore[attr-defined]
        x += pdfmetrics.stringWidth(piece, face, size)
    return x


def wrap_text(text: str, font: str, size: float, room: float, max_lines: int) -> list[str]:
    """Break at spaces or after hyphens (inside a word only when it alone is too wide) into at most
    `max_lines` lines of `room` points; the last one ends with an ellipsis if cut."""
    lines: list[str] = []
    rest = text.strip()
    while rest and len(lines) < max_lines:
        if text_width(rest, font, size) <= room:
            lines.append(rest)
            rest = ""
            break
        cut = len(rest)
        while cut > 1 and text_width(rest[:cut], font, size) > room:
            cut -= 1
        space = max(rest.rfind(" ", 0, cut + 1), rest.rfind("-", 0, cut) + 1)
        if space > 0:
            cut = space
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest and lines:
        last = lines[-1]
        while last and text_width(last + "…", font, size) > room:
            last = last[:-1]
        lines[-1] = last + "…"
    return lines
