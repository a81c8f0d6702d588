"""The controlled-substance report as PDF: daily reconciliation, inventory (counts and
the balances at the close of the range), per-patient administrations and the per-lot
log with who and the witness of every movement. Takes domain objects only."""

from __future__ import annotations

import io

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, PageBreak, Paragraph, SimpleDocTemplate

from ketalog.domain.stock import containers_text
from ketalog.domain.stock_reconciliation import StockReport
from ketalog.reports.blocks import STYLES, fit, grid_table, local_time, para
from ketalog.reports.fonts import SANS, SANS_BOLD
from ketalog.reports.page import FOOTER_H, HEADER_H, MARGIN, held_pages_canvas, page_size


def _frame(canvas: Canvas, report: StockReport, number: int, total: int) -> None:
    """Clinic, what the report is and its range above; content hash, printer and
    "page x of y" below."""
    width, height = canvas._pagesize
    top = height - MARGIN
    canvas.saveState()
    canvas.setFont(SANS_BOLD, 9)
    canvas.drawString(MARGIN, top - 9, report.clinic)
    canvas.setFont(SANS, 9)
    canvas.drawRightString(width - MARGIN, top - 9, "Controlled-substance record")
    canvas.setFont(SANS_BOLD, 10)
    canvas.drawString(MARGIN, top - 22, "Ketamine (controlled substance)")
    canvas.setFont(SANS, 9)
    canvas.drawRightString(width - MARGIN, top - 22, report.range_text)
    canvas.setLineWidth(0.6)
    canvas.line(MARGIN, top - 27, width - MARGIN, top - 27)
    canvas.line(MARGIN, MARGIN + 12, width - MARGIN, MARGIN + 12)
    canvas.setFont(SANS, 7)
    head = f" · {report.audit_head.printed}" if report.audit_head else ""
    canvas.drawString(MARGIN, MARGIN + 3, f"record as of printing · content "
                                          f"{report.content_hash[:12]}{head}")
    canvas.drawRightString(width - MARGIN, MARGIN + 3,
                           f"printed {local_time(report.printed_at, True)} by "
                           f"{report.printed_by} · page {number} of {total}")
    canvas.restoreState()


def _mg(value: float) -> str:
    return f"{value:,.1f}"


# Section headings stay with the table under them.
H2 = ParagraphStyle("stock_h2", parent=STYLES["h2"], keepWithNext=1)


def _signed(value: float) -> str:
    return "0.0" if abs(value) < 0.05 else f"{value:+.1f}"


def _reconciliation(report: StockReport, width: float) -> list[Flowable]:
    rows: list[list[object]] = [["Day", "Opening mg", "Received", "Drawn", "Returned",
                                 "Wasted (stock)", "Adjusted", "Closing mg", "Sessions",
                                 "Given", "Wasted (sessions)", "Unaccounted"]]
    flagged = []
    for n, d in enumerate(report.days, start=1):
        rows.append([d.day.isoformat(), _mg(d.opening_mg), _mg(d.received_mg),
                     _mg(d.drawn_mg), _mg(d.returned_mg), _mg(d.wasted_from_stock_mg),
                     _signed(d.adjusted_mg), _mg(d.closing_mg),
                     str(len(d.sessions)), _mg(d.given_mg), _mg(d.session_waste_mg),
                     _signed(d.unaccounted_mg)])
        if any(a.use.finished and not a.balanced(report.tolerance_mg) for a in d.sessions):
            flagged.append(("TEXTCOLOR", (11, n), (11, n), colors.HexColor("#b00020")))
    return [Paragraph("Daily reconciliation", H2),
            para("All lots together, in mg. Closing = opening + received − drawn + returned − "
                 "wasted from stock + adjustments. For each session drawn − returned = given "
                 f"(dose timeline) + wasted, within {report.tolerance_mg:g} mg; red: beyond it. "
                 "Sessions still running are not judged.",
                 "note"),
            grid_table(rows, extra=[("ALIGN", (1, 0), (-1, -1), "RIGHT"), *flagged])]


def _inventory(report: StockReport, width: float) -> list[Flowable]:
    out: list[Flowable] = [Paragraph(f"Inventory at the close of {report.until.isoformat()}",
                                     H2)]
    rows: list[list[object]] = [["Location", "Product", "Strength", "Container", "Lot",
                                 "Expiry", "Balance mg", "Containers"]]
    for lot in report.lots:
        b = report.balances[lot.id]
        rows.append([lot.location, fit(lot.product, 120), f"{lot.strength_mg_per_ml:g} mg/mL",
                     f"{lot.container_ml:g} mL", lot.lot_number, lot.expiry.isoformat()
                     + (" recalled" if lot.recalled else ""), _mg(b.balance_mg),
                     containers_text(b)])
    out.append(grid_table(rows))
    out.append(Paragraph("Counts in the period", H2))
    if not report.counts:
        out.append(para("No count was taken in this period.", "body"))
    for c in report.counts:
        out.append(para(f"{local_time(c.at, True)} · {c.business} of business · {c.location} · "
                        f"counted by {c.counted_by}"
                        f"{' and ' + c.second_counter if c.second_counter else ''}"
                        f"{' · ' + c.note if c.note else ''}", "body"))
        lines: list[list[object]] = [["Lot", "Record mg", "Counted mg", "Difference",
                                      "Explanation"]]
        for line in c.lines:
            lot = report.lot(line.lot_id)
            lines.append([lot.lot_number if lot else str(line.lot_id), _mg(line.expected_mg),
                          _mg(line.counted_mg), _signed(line.difference_mg),
                          fit(line.explanation or "—", 220)])
        out.append(grid_table(lines))
    return out


def _administrations(report: StockReport, width: float) -> list[Flowable]:
    rows: list[list[object]] = [["Date", "Patient", "MRN", "Session", "Lots", "Drawn mg",
                                 "Given mg", "Wasted mg", "Administered by", "Waste witness"]]
    for a in report.administrations:
        lots = sorted({(report.lot(m.lot_id).lot_number if report.lot(m.lot_id) else "?")
                       for m in a.draws})
        witness = "; ".join(f"{w.witness} {local_time(w.witness_at)}" for w in a.wastes)
        rows.append([local_time(a.use.began_at, True)[:10] if a.use.began_at else "—",
                     fit(a.use.patient, 95), a.use.mrn, str(a.use.session_id),
                     fit(", ".join(lots) or "—", 60), _mg(a.net_drawn_mg), _mg(a.use.given_mg),
                     _mg(a.wasted_mg), fit(a.use.nurse or "—", 140), fit(witness or "none", 150)])
    return [Paragraph("Administrations per patient", H2),
            para("Drug: ketamine. Strength and lots as drawn; given is the session's dose "
                 "timeline total (21 CFR 1304.22(c): drug, strength, quantity, date, patient, "
                 "who administered).", "note"),
            grid_table(rows, widths=[55, 95, 55, 40, 70, 50, 50, 50, 140, 150])]


def _lot_logs(report: StockReport, width: float) -> list[Flowable]:
    out: list[Flowable] = [Paragraph("Per-lot log", H2)]
    sessions_of: dict[int, set[int]] = {}
    for m in report.movements:
        if m.lot_id is not None and m.session_id is not None:
            sessions_of.setdefault(m.lot_id, set()).add(m.session_id)
    for lot in report.lots:
        moves = [m for m in report.movements if m.lot_id == lot.id or (
            m.lot_id is None and m.session_id in sessions_of.get(lot.id, set()))]
        title = (f"{lot.label} · {lot.location} · expiry {lot.expiry.isoformat()}"
                 f"{' · RECALLED ' + lot.recall_reason if lot.recalled else ''}")
        if not moves:
            out.append(para(f"{title} · no movement in this period", "body"))
            continue
        out.append(para(title, "body"))
        rows: list[list[object]] = [["When", "Kind", "mg", "Session", "By", "Witness",
                                     "Detail"]]
        for m in moves:
            sign = {"receive": "+", "return": "+", "draw": "−"}.get(m.kind.value, "")
            amount = (f"{m.amount_mg:+.1f}" if m.kind.value == "adjustment"
                      else ("(remainder) " if m.lot_id is None else
                            ("−" if m.kind.value == "waste" else sign)) + f"{m.amount_mg:.1f}")
            detail = " · ".join(x for x in (m.method, m.reason, m.supplier and
                                            f"{m.supplier} invoice {m.invoice}") if x)
            rows.append([local_time(m.at, True), m.kind.value, amount,
                         "" if m.session_id is None else str(m.session_id), fit(m.user, 110),
                         fit(m.witness or "—", 110), fit(detail or "—", 150)])
        out.append(grid_table(rows))
    return out


def _discrepancies(report: StockReport) -> list[Flowable]:
    rows: list[list[object]] = [["Discrepancy", "Status"]]
    for d in report.discrepancies:
        status = ("OPEN" if d.resolution is None else
                  f"resolved {local_time(d.resolution.at, True)} by {d.resolution.by}: "
                  f"{d.resolution.note}")
        rows.append([fit(d.text, 330), fit(status, 180)])
    if len(rows) == 1:
        rows.append(["none", ""])
    return [Paragraph("Discrepancies", H2), grid_table(rows)]


def stock_pdf(report: StockReport) -> bytes:
    buffer = io.BytesIO()
    from reportlab.lib.pagesizes import landscape

    doc = SimpleDocTemplate(buffer, pagesize=landscape(page_size(report.paper)),
                            leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN + HEADER_H,
                            bottomMargin=MARGIN + FOOTER_H,
                            title=f"Controlled-substance record {report.range_text}",
                            author=report.clinic,
                            keywords=report.audit_head.keyword if report.audit_head else "")
    story: list[Flowable] = [
        Paragraph(f"Controlled-substance record, {report.range_text}", STYLES["h1"])]
    story += _reconciliation(report, doc.width)
    story += _discrepancies(report)
    story += _inventory(report, doc.width)
    story.append(PageBreak())
    story += _administrations(report, doc.width)
    story += _lot_logs(report, doc.width)
    doc.build(story, canvasmaker=held_pages_canvas(
        lambda canvas, number, total: _frame(canvas, report, number, total)))
    return buffer.getvalue()
