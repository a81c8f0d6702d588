"""What every page of a ketalog PDF carries: clinic, the patient's identifiers, the
record's date, page x of y, status with a DRAFT watermark until signed, and a short
content hash, so a loose page can always be matched to its patient and its record."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from ketalog.reports.fonts import SANS, SANS_BOLD, draw_text, register_fonts, text_width, wrap_text
from ketalog.reports.logo import logo_image, logo_size

PAPER = {"A4": A4, "Letter": LETTER}
MARGIN = 15 * mm
HEADER_H = 17 * mm
FOOTER_H = 10 * mm


@dataclass(frozen=True)
class PageFrame:
    clinic: str
    title: str
    patient: str  # "FAMILY, Given"
    mrn: str
    birth_date: str
    record_date: str  # the session date, or the course's date range
    status: str  # shown in the footer; "signed" removes the watermark
    signed: bool
    content_hash: str
    printed: str  # "2026-11-25 09:00 by Dr. X"
    paper: str = "A4"
    clinic_address: str = ""  # up to 3 lines, printed on one line after the name
    clinic_logo: bytes | None = None  # PNG or JPEG, left of the header lines
    audit_head: str = ""  # "audit #1234 3f9a0b1c2d3e4f56": the chain's head when gathered


def page_size(paper: str) -> tuple[float, float]:
    if paper not in PAPER:
        raise ValueError(f"paper size must be one of {', '.join(PAPER)}, not {paper!r}")
    return PAPER[paper]


def styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    base = ParagraphStyle("body", fontName=SANS, fontSize=8.5, leading=10.5)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=9),
        "cell": ParagraphStyle("cell", parent=base, fontSize=7.5, leading=9),
        "h1": ParagraphStyle("h1", parent=base, fontName=SANS_BOLD, fontSize=13, leading=16,
                             spaceAfter=4),
        "h2": ParagraphStyle("h2", parent=base, fontName=SANS_BOLD, fontSize=10, leading=13,
                             spaceBefore=8, spaceAfter=3),
        "note": ParagraphStyle("note", parent=base, fontSize=7.5, leading=9,
                               textColor=colors.HexColor("#333333")),
    }


def numbered_canvas(frame: PageFrame) -> type[Canvas]:
    """A canvas that holds its pages until the end so each can say "page x of y"."""
    return held_pages_canvas(lambda canvas, number, total: draw_frame(canvas, frame, number,
                                                                      total))


def held_pages_canvas(draw: Callable[[Canvas, int, int], None]) -> type[Canvas]:
    """A canvas that keeps its pages until saved, then calls `draw(canvas, page, pages)`
    on each, so every page's frame can say "page x of y"."""

    class FramedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 (ReportLab API)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                draw(self, number, total)
                super().showPage()
            super().save()

    return FramedCanvas


def _clip(text: str, size: float, room: float) -> str:
    """The text cut with an ellipsis to fit `room` points (empty if nothing fits)."""
    if stringWidth(text, SANS, size) <= room:
        return text
    while text and stringWidth(text + "…", SANS, size) > room:
        text = text[:-1]
    return text + "…" if text else ""


def _draw_identity(c: Canvas, frame: PageFrame, left: float, top: float, width: float) -> None:
    """Name, MRN and DOB on every page. MRN and DOB keep their room whatever the name's
    length: a long name wraps onto two smaller lines (cut with an ellipsis beyond) in the
    room they leave; CJK characters print in the fallback font."""
    ids = f"MRN {frame.mrn}   DOB {frame.birth_date}"
    room = (width - MARGIN - stringWidth(frame.record_date, SANS, 9) - 12 - left
            - text_width(ids, SANS_BOLD, 10) - 12)
    name = frame.patient
    if text_width(name, SANS_BOLD, 10) <= room:
        end = draw_text(c, left, top - 22, name, SANS_BOLD, 10)
        draw_text(c, end + stringWidth("   ", SANS_BOLD, 10), top - 22, ids, SANS_BOLD, 10)
        return
    lines = wrap_text(name, SANS_BOLD, 8, room, 2)
    for n, line in enumerate(lines):
        draw_text(c, left, top - 17.5 - 7.8 * n if len(lines) > 1 else top - 22, line,
                  SANS_BOLD, 8)
    draw_text(c, left + room + 12, top - 22, ids, SANS_BOLD, 10)


def draw_frame(c: Canvas, frame: PageFrame, number: int, total: int) -> None:
    width, height = c._pagesize
    c.saveState()
    if not frame.signed:
        c.setFillColor(colors.Color(0.55, 0.55, 0.55, alpha=0.18))
        c.setFont(SANS_BOLD, 96)
        c.translate(width / 2, height / 2)
        c.rotate(45)
        c.drawCentredString(0, -30, "DRAFT")
        c.rotate(-45)
        c.translate(-width / 2, -height / 2)
    top = height - MARGIN
    left = MARGIN
    if frame.clinic_logo:
        logo_w, logo_h = logo_size(frame.clinic_logo)
        c.drawImage(logo_image(frame.clinic_logo), left, top - 1 - logo_h, logo_w, logo_h,
                    mask="auto")
        left += logo_w + 5
    c.setFillColor(colors.black)
    c.setFont(SANS_BOLD, 9)
    c.drawString(left, top - 9, frame.clinic)
    c.setFont(SANS, 9)
    c.drawRightString(width - MARGIN, top - 9, frame.title)
    if frame.clinic_address:
        room = (width - MARGIN - stringWidth(frame.title, SANS, 9) - 12
                - left - stringWidth(frame.clinic, SANS_BOLD, 9) - 8)
        address = _clip(" · ".join(frame.clinic_address.splitlines()), 7, room)
        c.setFont(SANS, 7)
        c.setFillColor(colors.HexColor("#444444"))
        c.drawString(left + stringWidth(frame.clinic, SANS_BOLD, 9) + 8, top - 9, address)
        c.setFillColor(colors.black)
    _draw_identity(c, frame, left, top, width)
    c.setFont(SANS, 9)
    c.drawRightString(width - MARGIN, top - 22, frame.record_date)
    c.setLineWidth(0.6)
    c.line(MARGIN, top - 27, width - MARGIN, top - 27)
    bottom = MARGIN
    c.line(MARGIN, bottom + 12, width - MARGIN, bottom + 12)
    c.setFont(SANS_BOLD if not frame.signed else SANS, 7)
    head = f" · {frame.audit_head}" if frame.audit_head else ""
    c.drawString(MARGIN, bottom + 3,
                 f"Status: {frame.status} · content {frame.content_hash[:12]}{head}")
    c.setFont(SANS, 7)
    c.drawRightString(width - MARGIN, bottom + 3,
                      f"printed {frame.printed} · page {number} of {total}")
    c.restoreState()
