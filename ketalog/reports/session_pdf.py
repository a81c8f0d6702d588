"""The session summary a provider signs off and sends: every fact of the infusion, the
dosing as the domain computes it, a native chart, the vitals with alert marks that do
not rely on colour, and signatures and addenda. Data comes in as a SessionRecord."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from ketalog.domain import dosing
from ketalog.domain.audit_head import AuditHead
from ketalog.domain.chair_state import session_state
from ketalog.domain.entities import DoseKind, FollowUp, SessionStatus, VitalsReading
from ketalog.domain.monitoring_gaps import GAP_TOLERANCE_MIN, monitoring_gaps
from ketalog.domain.record import SessionRecord
from ketalog.domain.scales import SCALES, ScaleError, nrs_percent_change
from ketalog.domain.vitals import format_vital
from ketalog.domain.wording import hours_text
from ketalog.reports.blocks import STYLES, fit, grid_table, local_time, para
from ketalog.reports.chart import EventMark, session_chart
from ketalog.reports.fonts import SANS
from ketalog.reports.page import (
    FOOTER_H,
    HEADER_H,
    MARGIN,
    PageFrame,
    numbered_canvas,
    page_size,
)
from ketalog.reports.vitals_rows import select_rows

ALERT_MARK = "▲"  # printed beside every alert value, with bold: not colour alone
VITALS_COLUMNS = (("sbp_mmhg", "SBP\nmmHg"), ("dbp_mmhg", "DBP\nmmHg"),
                  ("map_mmhg", "MAP\nmmHg"), ("hr_bpm", "HR\n/min"), ("spo2_pct", "SpO2\n%"),
                  ("rr_per_min", "RR\n/min"), ("etco2_mmhg", "EtCO2\nmmHg"),
                  ("temp_c", "Temp\n°C"))


@dataclass(frozen=True)
class SessionReport:
    record: SessionRecord
    clinic: str
    content_hash: str
    printed_at: datetime
    printed_by: str
    paper: str = "A4"
    clinic_address: str = ""
    clinic_logo: bytes | None = None
    default_monitoring_min: int = 15  # the clinic's interval for a session without protocol
    audit_head: AuditHead | None = None  # the chain's head when the report was gathered


def record_series(r: SessionRecord) -> str:
    goal = f" · goal: {r.series.goal}" if r.series else ""
    return r.series_text + goal


def allergy_text(r: SessionRecord) -> str:
    """The entries (with reaction and severity), else the free text, else 'none'."""
    if r.allergies:
        return "; ".join(a.text for a in r.allergies)
    return r.patient.allergies or "none recorded"


def _acknowledgements(r: SessionRecord) -> list[Flowable]:
    """Every allergy, formulary and alarm acknowledgement, with who gave which reason."""
    if not r.acknowledgements:
        return []
    out: list[Flowable] = [Paragraph("Warnings and alarms acknowledged", STYLES["h2"])]
    kinds = {"allergy": "allergy", "formulary": "formulary", "alarm": "alarm"}
    out.append(grid_table([["Time", "Kind", "Warning (source)", "Reason / action taken", "By"]] + [
        [local_time(a.at), kinds.get(a.kind, a.kind),
         fit(f"{a.warning} ({a.source})" if a.source else a.warning, 78 * mm),
         fit(a.response, 47 * mm), fit(r.user_name(a.entered_by), 25 * mm)]
        for a in r.acknowledgements], [13 * mm, 17 * mm, 78 * mm, 47 * mm, 25 * mm]))
    return out


def _facts(r: SessionRecord) -> Table:
    s, bag = r.session, r.session.bag
    expiry = bag.expiry.isoformat() if bag.expiry else "—"
    pairs = [
        ("Protocol", r.protocol.name if r.protocol else "none"),
        ("Series", record_series(r)),
        ("Chair", s.chair or "—"), ("Weight", f"{s.weight_kg:.1f} kg"),
        ("Nurse", r.user_name(s.nurse_id)), ("Provider", r.user_name(s.provider_id)),
        ("Bag", f"{bag.drug} {bag.concentration_mg_per_ml:g} mg/mL × {bag.volume_ml:g} mL "
                f"({bag.total_mg:g} mg)"),
        ("Lot / expiry", f"{bag.lot or '—'} / {expiry}"),
        ("Arrival", local_time(s.arrival_at, True)), ("Infusion start", local_time(s.infusion_start_at, True)),
        ("Infusion end", local_time(s.infusion_end_at, True)), ("Discharge", local_time(s.discharge_at, True)),
        ("Allergies", allergy_text(r)),
        ("Indication", r.patient.indication or (r.protocol.indication if r.protocol else "—")),
    ]
    if s.discharge_escort or s.discharge_instructions:
        pairs.append(("Discharged with", f"escort: {s.discharge_escort or '—'}; "
                                   f"{s.discharge_instructions}"))
    rows = [[fit(a, 24 * mm), fit(b, 61 * mm), fit(c, 24 * mm), fit(d, 71 * mm)]
            for (a, b), (c, d) in
            zip(pairs[0::2], pairs[1::2] + [("", "")] * (len(pairs) % 2), strict=False)]
    table = Table(rows, colWidths=[24 * mm, 61 * mm, 24 * mm, 71 * mm], hAlign="LEFT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("FONTNAME", (0, 0), (-1, -1), SANS),
                               ("FONTSIZE", (0, 0), (-1, -1), 7.5),
                               ("TOPPADDING", (0, 0), (-1, -1), 1),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                               ("TEXTCOLOR", (0, 0), (0, -1), colors.HexColor("#444444")),
                               ("TEXTCOLOR", (2, 0), (2, -1), colors.HexColor("#444444"))]))
    return table


def _struck(text: str, width: float) -> Flowable:
    """An entry entered in error: printed struck through, never left out."""
    return Paragraph(f"<strike>{escape(text)}</strike>", STYLES["cell"]) if text else fit("", width)


def struck_note(reason: str) -> str:
    return f"ENTERED IN ERROR: {reason}"


def _entry_row(cells: list[str], widths: list[float], struck_reason: str) -> list[object]:
    """A table row as text; an entry entered in error is struck through, its reason
    added to the last column (it counts in no summary)."""
    if not struck_reason:
        return [fit(c, w) for c, w in zip(cells, widths, strict=True)]
    last = struck_note(struck_reason) + (f"; {cells[-1]}" if cells[-1] else "")
    return [_struck(c, w) for c, w in zip(cells[:-1], widths[:-1], strict=True)] + [
        fit(last, widths[-1])]


STRUCK_LEGEND = "Struck through = entered in error (reason given); not counted."


def _dosing(r: SessionRecord, now: datetime) -> list[Flowable]:
    weight = r.session.weight_kg
    live = dosing.live_events(r.doses)
    total = r.total_mg(now)
    segs = dosing.segments(r.doses)
    infusing_h = sum(((s.end or now) - s.start).total_seconds() for s in segs) / 3600
    bolus = sum(e.bolus_mg or 0.0 for e in live if e.kind == DoseKind.BOLUS)
    runs = len(dosing.infusion_runs(r.doses))
    out: list[Flowable] = [Paragraph("Dosing", STYLES["h2"]), para(
        f"Total ketamine {total:.1f} mg = {total / weight:.2f} mg/kg "
        f"(weight {weight:.1f} kg) · boluses {bolus:.1f} mg · infusing {hours_text(infusing_h)}"
        + (f" in {runs} runs" if runs > 1 else "") + " · "
        f"maximum rate {dosing.max_rate_mg_per_h(r.doses):.1f} mg/h "
        f"({dosing.max_rate_mg_per_h(r.doses) / weight:.2f} mg/kg/h)", "body")]
    if any(e.struck_reason for e in r.doses):
        out.append(para("Struck through = entered in error (reason given); not counted in "
                        "any total.", "note"))
    rows: list[list[object]] = [["Time", "Event", "mg/h", "mg/kg/h", "Bolus mg",
                                 "Running total", "Reason / acknowledged warnings"]]
    for e in r.doses:
        rate = e.rate_mg_per_h
        reason = e.reason
        if e.acknowledged_warnings:
            reason += ("; " if reason else "") + "ACKNOWLEDGED: " + "; ".join(
                e.acknowledged_warnings)
        cells = [local_time(e.at), e.kind.value.replace("_", " "),
                 "" if rate is None else f"{rate:.1f}",
                 "" if rate is None else f"{rate / weight:.2f}",
                 "" if e.bolus_mg is None else f"{e.bolus_mg:.1f}"]
        if e.struck_reason:
            reason = struck_note(e.struck_reason) + ("; " + reason if reason else "")
            rows.append([_struck(c, 15 * mm) for c in cells] + ["—", fit(reason, 83 * mm)])
            continue
        rows.append([*cells, f"{r.running_total_mg(e.at):.1f} mg", fit(reason, 83 * mm)])
    if len(rows) > 1:
        out.append(Spacer(1, 3))
        out.append(grid_table(rows, [13 * mm, 20 * mm, 13 * mm, 15 * mm, 15 * mm, 21 * mm,
                                 83 * mm]))
    return out


def _events(r: SessionRecord) -> list[tuple[datetime, str]]:
    items: list[tuple[datetime, str]] = []
    items += [(e.at, f"bolus {e.bolus_mg:g} mg") for e in dosing.live_events(r.doses)
              if e.kind == DoseKind.BOLUS]
    items += [(a.at, f"{a.drug} {a.dose:g} {a.unit} {a.route}") for a in r.adjuncts
              if not a.struck_reason]
    items += [(s.onset_at, f"{s.kind} ({s.severity.value})") for s in r.side_effects
              if not s.struck_reason]
    return sorted(items, key=lambda i: i[0])


def _chart(r: SessionRecord, width: float, now: datetime) -> list[Flowable]:
    vitals = [v for v in r.vitals if not v.artifact]
    times = [v.at for v in vitals] + [e.at for e in r.doses]
    start = min(times + [r.session.infusion_start_at or now])
    end = max(times + [r.session.infusion_end_at or start])
    events = _events(r)
    marks = [EventMark(at, i) for i, (at, _) in enumerate(events, start=1)]
    drawing = session_chart(width, vitals, dosing.segments(r.doses),
                            [(e.at, e.bolus_mg or 0.0) for e in dosing.live_events(r.doses)
                             if e.kind == DoseKind.BOLUS], marks, start, end)
    out: list[Flowable] = [Paragraph("Chart", STYLES["h2"]), drawing]
    if events:
        text = " · ".join(f"<b>{i}</b> {local_time(at)} {escape(label)}"
                          for i, (at, label) in enumerate(events, start=1))
        out.append(Paragraph(f"Events: {text}", STYLES["small"]))
    return [KeepTogether(out)]


def _vitals_cell(reading: VitalsReading, field: str) -> object:
    text = format_vital(field, getattr(reading, field))
    if not text:
        return ""
    if reading.artifact:
        return Paragraph(f"<strike>{text}</strike>", STYLES["cell"])
    if field in reading.alerts:
        return Paragraph(f"<b>{text} {ALERT_MARK}</b>", STYLES["cell"])
    return text


def _gaps(r: SessionRecord, now: datetime, default_interval_min: int) -> list[Flowable]:
    """Every BP gap longer than the protocol's interval (+ tolerance) during the infusion."""
    interval = r.protocol.monitoring_interval_min if r.protocol else default_interval_min
    runs = dosing.infusion_runs(r.doses)
    if not runs:
        return []
    end = runs[-1][1] or now
    gaps = monitoring_gaps(r.vitals, runs[0][0], end, interval)
    rule = (f"no BP for longer than the {interval} min monitoring interval "
            f"({'protocol' if r.protocol else 'clinic setting'}) + {GAP_TOLERANCE_MIN} min, "
            "from the infusion's start to its end")
    if not gaps:
        return [para(f"Monitoring gaps ({rule}): none.", "note")]
    text = "; ".join(f"{g.vital} {local_time(g.start)}–{local_time(g.end)} ({g.minutes} min)"
                     for g in gaps)
    return [Paragraph(f"<b>Monitoring gaps</b> ({escape(rule)}): {len(gaps)}: {escape(text)}",
                      STYLES["body"])]


def _vitals(r: SessionRecord, now: datetime | None = None,
            default_interval_min: int = 15) -> list[Flowable]:
    selected = select_rows(r.vitals)
    out: list[Flowable] = [Paragraph("Vitals", STYLES["h2"]), para(
        f"{ALERT_MARK} bold = outside the clinic's alert threshold · struck through = "
        "artifact (reason given) · late = entered more than 10 minutes after the time "
        "shown", "note")]
    if selected.summary_note:
        out.append(para(selected.summary_note, "note"))
    if now is not None:
        out += _gaps(r, now, default_interval_min)
    header: list[object] = ["Time"] + [label for _, label in VITALS_COLUMNS] + ["Source / notes"]
    rows: list[list[object]] = [header]
    for v in selected.rows:
        notes = [v.source]
        if v.map_derived:
            notes.append("MAP calculated")
        if v.late_entry:
            notes.append("late")
        if v.artifact:
            notes.append(f"ARTIFACT: {v.artifact_reason}")
        rows.append([local_time(v.at) if v.source == "manual" else v.at.astimezone().strftime("%H:%M:%S")]
                    + [_vitals_cell(v, f) for f, _ in VITALS_COLUMNS]
                    + [fit("; ".join(notes), 61 * mm)])
    if len(rows) == 1:
        out.append(para("No vitals recorded.", "body"))
        return out
    widths = [15 * mm] + [13 * mm] * len(VITALS_COLUMNS) + [61 * mm]
    out.append(grid_table(rows, widths, [("ALIGN", (1, 0), (-2, -1), "RIGHT")]))
    return out


def _entries(r: SessionRecord) -> list[Flowable]:
    out: list[Flowable] = []
    if any(e.struck_reason for e in (*r.adjuncts, *r.side_effects, *r.scores, *r.notes,
                                     *r.follow_ups)):
        out.append(para(STRUCK_LEGEND, "note"))
    out.append(Paragraph("Adjunct medications", STYLES["h2"]))
    if r.adjuncts:
        widths = [15 * mm, 35 * mm, 22 * mm, 15 * mm, 93 * mm]
        out.append(grid_table([["Time", "Drug", "Dose", "Route", "Reason"]] + [
            _entry_row([local_time(a.at), a.drug, f"{a.dose:g} {a.unit}", a.route,
                        "; ".join([a.reason] * bool(a.reason) + [
                            f"{k.kind.upper()} WARNING ACKNOWLEDGED: {k.response}"
                            for k in r.acknowledgements_of(a.uuid)])],
                       widths, a.struck_reason)
            for a in r.adjuncts], widths))
    else:
        out.append(para("None given.", "body"))
    out.append(Paragraph("Side effects", STYLES["h2"]))
    if r.side_effects:
        widths = [15 * mm, 30 * mm, 17 * mm, 48 * mm, 20 * mm, 50 * mm]
        out.append(grid_table([["Onset", "Kind", "Severity", "Action", "Resolved", "Note"]] + [
            _entry_row([local_time(s.onset_at), s.kind, s.severity.value, s.action,
                        local_time(s.resolved_at) if s.resolved_at else "not resolved", s.note],
                       widths, s.struck_reason)
            for s in r.side_effects], widths))
    else:
        out.append(para("None recorded.", "body"))
    out += _scores(r)
    out.append(Paragraph("Notes", STYLES["h2"]))
    if r.notes:
        for n in r.notes:
            line = f"{local_time(n.at)}  {r.user_name(n.author_id)}: {n.text}"
            if n.struck_reason:
                out.append(Paragraph(f"<strike>{escape(line)}</strike> — "
                                     f"{escape(struck_note(n.struck_reason))}", STYLES["body"]))
            else:
                out.append(para(line, "body"))
    else:
        out.append(para("None.", "body"))
    out.append(Paragraph("Follow-ups so far", STYLES["h2"]))
    if r.follow_ups:
        widths = [27 * mm, 12 * mm, 16 * mm, 14 * mm, 20 * mm, 91 * mm]
        out.append(grid_table([["Date", "NRS", "Relief h", "PHQ-9", "Source", "Note"]] + [
            _entry_row([local_time(f.at, True), "" if f.nrs is None else str(f.nrs),
                        "" if f.relief_hours is None else f"{f.relief_hours:g}",
                        phq9_cell(f), f.source, f.note + safety_text(f)],
                       widths, f.struck_reason)
            for f in r.follow_ups], widths))
    else:
        out.append(para("None yet.", "body"))
    return out


def nrs_pre_post(r: SessionRecord) -> tuple[int | None, int | None]:
    counted = [s for s in r.scores if not s.struck_reason]
    pre = [s.value for s in counted if s.scale == "nrs" and s.phase.value == "pre"]
    post = [s.value for s in counted if s.scale == "nrs" and s.phase.value == "post"]
    return (pre[0] if pre else None, post[-1] if post else None)


def _scores(r: SessionRecord) -> list[Flowable]:
    out: list[Flowable] = [Paragraph("Scores", STYLES["h2"])]
    pre, post = nrs_pre_post(r)
    if pre is not None and post is not None:
        change = nrs_percent_change(pre, post)
        out.append(para(f"Pain NRS {pre} → {post}"
                      + ("" if change is None else f" ({change:+.0f} %)"), "body"))
    rows: list[list[object]] = [["Time", "Scale", "Phase", "Total", "Interpretation"]]
    for s in r.scores:
        spec = SCALES.get(s.scale)
        try:
            result = spec.score(items=s.items) if spec and s.items else (
                spec.score(value=s.value) if spec else None)
        except ScaleError:
            result = None
        name = spec.short_name if spec else s.scale
        text = result.interpretation if result else ""
        rows.append(_entry_row([local_time(s.at), name, s.phase.value, f"{s.value}"
                                + (f"/{spec.max_total}" if spec else ""),
                                ("⚑ " if result and result.flag else "") + text],
                               [15 * mm, 40 * mm, 18 * mm, 15 * mm, 92 * mm], s.struck_reason))
    if len(rows) > 1:
        out.append(grid_table(rows, [15 * mm, 40 * mm, 18 * mm, 15 * mm, 92 * mm]))
    else:
        out.append(para("None recorded.", "body"))
    return out


def phq9_cell(f: FollowUp) -> str:
    """The follow-up PHQ-9 total, marked when only the total was asked, ⚑ for item 9."""
    if f.phq9 is None:
        return ""
    return f"{f.phq9}" + (" total only" if f.phq9_total_only else "") + (
        " ⚑" if f.safety_flag else "")


def safety_text(f: FollowUp) -> str:
    if not f.safety_flag:
        return ""
    item = f.phq9_items.get("item_9", 0)
    if f.safety_ack_at is None:
        return f" ⚑ PHQ-9 item 9 = {item}: safety flag NOT YET ACKNOWLEDGED"
    return (f" ⚑ PHQ-9 item 9 = {item}: acknowledged {local_time(f.safety_ack_at, True)}: "
            f"{f.safety_ack_note}")


def _discharge(r: SessionRecord) -> list[Flowable]:
    """The readiness checks as made at Complete; a failed one with the nurse's reason."""
    checks = r.session.discharge_readiness
    if not checks:
        return []
    rows: list[list[object]] = [["Check", "Result", "Source", "Acknowledged: reason"]]
    for c in checks:
        rows.append([fit(c.message, 70 * mm), "passed" if c.passed else "FAILED",
                     fit(c.source, 55 * mm), fit(c.acknowledged or "", 40 * mm)])
    return [Paragraph("Discharge readiness", STYLES["h2"]),
            grid_table(rows, [70 * mm, 15 * mm, 55 * mm, 40 * mm])]


def _signatures(r: SessionRecord) -> list[Flowable]:
    out: list[Flowable] = [Paragraph("Signatures", STYLES["h2"])]
    if r.signatures:
        out.append(grid_table([["Signed by", "Date and time", "Meaning", "Content hash"]] + [
            [fit(r.user_name(s.user_id), 55 * mm), local_time(s.at, True), fit(s.meaning, 60 * mm),
             s.content_hash[:16]]
            for s in r.signatures], [55 * mm, 30 * mm, 60 * mm, 35 * mm]))
    else:
        out.append(para("Not signed.", "body"))
    out.append(Paragraph("Addenda", STYLES["h2"]))
    if r.addenda:
        for a in r.addenda:
            out.append(para(f"{local_time(a.at, True)}  {r.user_name(a.author_id)} — reason: {a.reason}",
                          "body"))
            out.append(para(a.text, "small"))
    else:
        out.append(para("None.", "body"))
    return out


def page_frame(report: SessionReport, title: str = "Infusion session record") -> PageFrame:
    r = report.record
    signed = r.session.status is SessionStatus.SIGNED
    when = r.session.infusion_start_at or r.session.arrival_at
    state = session_state(r.session.status, r.doses, report.printed_at)
    status = "SIGNED" if signed else f"DRAFT — {state.text}"
    return PageFrame(
        clinic=report.clinic, title=title,
        patient=f"{r.patient.family_name.upper()}, {r.patient.given_name}",
        mrn=r.patient.mrn, birth_date=r.patient.birth_date.isoformat(),
        record_date=f"Session {local_time(when, True) if when else '—'} (#{r.session.id})",
        status=status, signed=signed, content_hash=report.content_hash,
        printed=f"{local_time(report.printed_at, True)} by {report.printed_by}", paper=report.paper,
        clinic_address=report.clinic_address, clinic_logo=report.clinic_logo,
        audit_head=report.audit_head.printed if report.audit_head else "")


def session_pdf(report: SessionReport) -> bytes:
    frame = page_frame(report)
    buffer = io.BytesIO()
    size = page_size(report.paper)
    doc = SimpleDocTemplate(buffer, pagesize=size, leftMargin=MARGIN, rightMargin=MARGIN,
                            topMargin=MARGIN + HEADER_H, bottomMargin=MARGIN + FOOTER_H,
                            title=f"Session {report.record.session.id} — {frame.patient}",
                            author=report.clinic, subject="Infusion session record",
                            keywords=report.audit_head.keyword if report.audit_head else "")
    r = report.record
    story: list[Flowable] = [Paragraph("Ketamine infusion session", STYLES["h1"]), _facts(r)]
    story += _dosing(r, report.printed_at)
    story += _chart(r, doc.width, report.printed_at)
    story += _vitals(r, report.printed_at, report.default_monitoring_min)
    story += _entries(r)
    story += _discharge(r)
    story += _acknowledgements(r)
    story += _signatures(r)
    doc.build(story, canvasmaker=numbered_canvas(frame))
    return buffer.getvalue()
