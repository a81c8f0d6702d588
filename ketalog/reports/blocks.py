"""Building blocks shared by the PDFs: local times, wrapped or plain cells, the grid table
style, paragraph styles with the bundled font."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Paragraph, Table, TableStyle

from ketalog.reports.fonts import SANS, SANS_BOLD
from ketalog.reports.page import styles


def local_time(value: datetime | None, with_date: bool = False) -> str:
    if value is None:
        return "—"
    local = value.astimezone()
    return local.strftime("%Y-%m-%d %H:%M" if with_date else "%H:%M")


def para(text: str, style: str = "cell") -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), STYLES[style])


def fit(text: str, width: float) -> str | Paragraph:
    """A plain string when it fits its column (a Paragraph costs ~20x to lay out), a
    wrapping Paragraph when it does not: long text wraps, never runs over."""
    if "\n" not in text and stringWidth(text, SANS, 7.5) <= width - 7:
        return text
    return para(text)


STYLES = styles()
GRID = TableStyle([
    ("FONTNAME", (0, 0), (-1, -1), SANS), ("FONTSIZE", (0, 0), (-1, -1), 7.5),
    ("FONTNAME", (0, 0), (-1, 0), SANS_BOLD),
    ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
    ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.HexColor("#999999")),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
])


def grid_table(rows: list[list[object]], widths: Sequence[float] | None = None,
           extra: Sequence[tuple[object, ...]] = ()) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(GRID)
    if extra:
        table.setStyle(TableStyle(list(extra)))
    return table
