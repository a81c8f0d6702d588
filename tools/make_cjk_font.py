"""Build resources/fonts/NotoSansCJKsc-Subset.ttf: the PDFs' fallback for names in
Chinese, Japanese and Korean, which DejaVu lacks. ReportLab embeds TrueType outlines only,
and Noto Sans CJK ships CFF outlines, so the face is subset (every character of GB 2312,
JIS X 0208 and KS X 1001: the characters names are written with) and converted to
TrueType quadratic curves. Run once when the font changes (needs `pip install fonttools`):

    python tools/make_cjk_font.py /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, TTFont, newTable

OUT = Path(__file__).resolve().parent.parent / "resources" / "fonts" / "NotoSansCJKsc-Subset.ttf"
FACE = "Noto Sans CJK SC"


def characters() -> set[int]:
    """Every character the three national character sets encode, plus kana and CJK
    punctuation, fullwidth forms and Hangul compatibility jamo."""
    found: set[int] = set()
    for codec in ("gb2312", "euc_jp", "euc_kr"):
        for lead in range(0xA1, 0xFF):
            for trail in range(0xA1, 0xFF):
                try:
                    found.update(ord(c) for c in bytes([lead, trail]).decode(codec))
                except UnicodeDecodeError:
                    continue
    for start, end in ((0x3000, 0x30FF), (0x3130, 0x318F), (0xFF00, 0xFFEF), (0x31F0, 0x31FF)):
        found.update(range(start, end + 1))
    return {c for c in found if c > 0x2E7F}  # DejaVu covers Latin, Greek, Cyrillic...


def to_truetype(font: TTFont) -> None:
    """CFF cubic outlines -> glyf quadratic ones (fontTools' otf2ttf recipe)."""
    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    quad = {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        glyphs[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        quad[name] = pen.glyph()
    font["loca"] = newTable("loca")
    font["glyf"] = glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = quad
    for tag in ("CFF ", "VORG"):
        if tag in font:
            del font[tag]
    glyf.compile(font)
    hmtx = font["hmtx"]
    for name, glyph in quad.items():
        advance, _ = hmtx[name]
        hmtx[name] = (advance, glyph.xMin if hasattr(glyph, "xMin") else 0)
    maxp = font["maxp"] = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for field in ("maxZones",):
        setattr(maxp, field, 1)
    for field in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                  "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, field, 0)
    post = font["post"]
    post.formatType = 3.0
    font.sfntVersion = "\x00\x01\x00\x00"


def main(source: str) -> None:
    collection = TTCollection(source)
    face = next(f for f in collection.fonts if f["name"].getDebugName(1) == FACE)
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.name_IDs = ["*"]
    options.notdef_outline = True
    sub = subset.Subsetter(options)
    sub.populate(unicodes=characters())
    sub.subset(face)
    to_truetype(face)
    face.save(OUT)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.1f} MB, "
          f"{len(face.getGlyphOrder())} glyphs)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else
         "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
