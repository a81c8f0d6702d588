"""The patient course summary: every infusion in the range with its dose, pain before
and after, side effects and how long relief lasted, the pain trend across the series,
responder status and adverse-event counts, all as ketalog.domain.course computed them."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer

from ketalog.domain.audit_head import AuditHead
from ketalog.domain.course import CourseOutcome, relief_text
from ketalog.domain.entities import Patient
from ketalog.domain.mood_course import MoodTrend, outcome_text
from ketalog.domain.series import SeriesProgress, SeriesState
from ketalog.domain.wording import counted, hours_text
from ketalog.reports.blocks import STYLES, fit, grid_table, local_time, para
from ketalog.reports.course_chart import course_chart, mood_chart
from ketalog.reports.page import FOOTER_H, HEADER_H, MARGIN, PageFrame, numbered_canvas, page_size
from ketalog.reports.session_pdf import safety_text


@dataclass(frozen=True)
class CourseReport:
    patient: Patient
    since: date | None
    until: date | None
    outcome: CourseOutcome
    clinic: str
    content_hash: str
    printed_at: datetime
    printed_by: str
    paper: str = "A4"
    protocol_names: dict[int, str] = field(default_factory=dict)  # session id -> name
    series: tuple[SeriesProgress, ...] = ()  # the patient's treatment series, newest first
    mood: MoodTrend | None = None  # PHQ-9 trend, shown for the mood indication
    clinic_address: str = ""
    clinic_logo: bytes | None = None
    audit_head: AuditHead | None = None  # the chain's head when the report was gathered


def duration_text(h: float | None) -> str:
    return hours_text(h)


def _range(report: CourseReport) -> str:
    since = report.since.isoformat() if report.since else "first"
    until = report.until.isoformat() if report.until else "latest"
    return f"Course {since} to {until}"


def _summary(o: CourseOutcome) -> Paragraph:
    responder = {True: "RESPONDER", False: "not a responder", None: "not evaluable"}[
        o.course_responder]
    mean = ("—" if o.mean_nrs_pre is None or o.mean_nrs_post is None
            else f"{o.mean_nrs_pre:.1f} → {o.mean_nrs_post:.1f}")
    change = "—" if o.median_change_pct is None else f"{o.median_change_pct:+.0f} %"
    rate = "—" if o.responder_rate_pct is None else f"{o.responder_rate_pct:.0f} %"
    infusions = "infusion" if o.session_count == 1 else "infusions"
    text = (f"<b>{o.session_count}</b> {infusions}, total ketamine <b>{o.total_mg:.1f} mg</b>. "
            f"Mean NRS before → after: <b>{mean}</b> (over {counted(o.paired_count, 'infusion')} with "
            f"both scores); median change {change}. Responder rule: NRS down by ≥ "
            f"{o.threshold_pct:g} % from before to after an infusion; "
            f"{o.responder_count} of {counted(o.evaluable_count, 'evaluable infusion')} responded "
            f"({rate}): course <b>{responder}</b> (a course responds when more than half of "
            f"its evaluable infusions do). Median relief at least "
            f"<b>{duration_text(o.median_relief_at_least_h)}</b> over "
            f"{counted(o.relief_known_count, 'infusion')} with follow-ups.")
    return Paragraph(text, STYLES["body"])


def _sessions(report: CourseReport) -> Flowable:
    rows: list[list[object]] = [["#", "Date", "Protocol", "Series", "Total\nmg", "mg/kg",
                                 "NRS pre\n→ post", "Change", "Side effects", "Relief"]]
    for number, s in enumerate(report.outcome.sessions, start=1):
        i = s.session
        pre = "—" if i.nrs_pre is None else str(i.nrs_pre)
        post = "—" if i.nrs_post is None else str(i.nrs_post)
        change = "—" if s.change_pct is None else f"{s.change_pct:+.0f} %" + (
            " R" if s.responder else "")
        effects = ", ".join(f"{e.kind} ({e.severity}){' ×' + str(e.count) if e.count > 1 else ''}"
                            for e in i.side_effects) or "none"
        rows.append([str(number), local_time(i.infusion_start, True)[:10],
                     fit(report.protocol_names.get(i.session_id, "—"), 36 * mm),
                     f"{i.series_number}/{i.series_total}", f"{i.total_mg:.1f}",
                     f"{i.mg_per_kg:.2f}", f"{pre} → {post}", change,
                     fit(effects, 29 * mm), fit(relief_text(s), 27 * mm)])
    return grid_table(rows, [6 * mm, 17 * mm, 36 * mm, 11 * mm, 12 * mm, 11 * mm, 15 * mm,
                             14 * mm, 29 * mm, 27 * mm])


def _adverse(o: CourseOutcome) -> list[Flowable]:
    out: list[Flowable] = [Paragraph("Adverse events", STYLES["h2"])]
    if not o.side_effects:
        return out + [para("None recorded in this range.", "body")]
    rows: list[list[object]] = [["Kind", "Severity", "Count"]]
    rows += [[fit(e.kind, 60 * mm), e.severity, str(e.count)] for e in o.side_effects]
    by_severity = ", ".join(f"{k}: {v}" for k, v in o.side_effects_by_severity.items())
    return out + [para(f"By severity: {by_severity}.", "body"), Spacer(1, 2),
                  grid_table(rows, [60 * mm, 25 * mm, 15 * mm])]


def _follow_ups(o: CourseOutcome) -> list[Flowable]:
    out: list[Flowable] = [Paragraph("Follow-ups", STYLES["h2"])]
    rows: list[list[object]] = [["#", "Date", "After", "NRS", "In relief", "Patient says",
                                 "Source", "Note"]]
    for number, s in enumerate(o.sessions, start=1):
        for v in s.follow_ups:
            f = v.follow_up
            relief = {True: "yes", False: "no", None: "—"}[v.in_relief]
            if not v.counted:
                relief = f"not counted: {v.excluded_reason}"
            rows.append([str(number), local_time(f.at, True), duration_text(v.hours_after),
                         "—" if f.nrs is None else str(f.nrs), fit(relief, 30 * mm),
                         duration_text(v.reported_relief_h), f.source,
                         fit(f.note + safety_text(f), 42 * mm)])
    if len(rows) == 1:
        return out + [para("No follow-ups recorded in this range.", "body")]
    open_ = o.open_follow_ups
    if open_:
        out.append(para(f"{len(open_)} follow-up call(s) due or overdue.", "body"))
    return out + [grid_table(rows, [6 * mm, 25 * mm, 14 * mm, 10 * mm, 30 * mm, 20 * mm,
                                16 * mm, 42 * mm])]


def _series(report: CourseReport) -> list[Flowable]:
    out: list[Flowable] = [Paragraph("Treatment series", STYLES["h2"])]
    if not report.series:
        return out + [para("No treatment series recorded.", "body")]
    rows: list[list[object]] = [["Series", "Since", "Next session", "Goal"]]
    for p in report.series:
        s = p.series
        if s.closed_on is not None:
            following = f"closed {s.closed_on}: {s.closed_reason}"
        elif s.next_session_on is None:
            following = "—" if p.state is not SeriesState.OPEN else "not planned"
        else:
            following = s.next_session_on.isoformat() + (
                f" (overdue {p.overdue_days} d)" if p.overdue_days else "")
        rows.append([fit(p.label(), 45 * mm), s.start_date.isoformat(),
                     fit(following, 50 * mm), fit(s.goal, 62 * mm)])
    return out + [grid_table(rows, [45 * mm, 20 * mm, 50 * mm, 62 * mm])]


def _mood(trend: MoodTrend, width: float) -> list[Flowable]:
    """Response and remission apart (CLINICAL.md PHQ-9, corrected 2026-12-06)."""
    out: list[Flowable] = [Paragraph("Mood (PHQ-9)", STYLES["h2"])]
    if trend.latest is not None:
        response, remission = outcome_text(trend)
        out.append(para(response, "body"))
        out.append(para(remission, "body"))
    return out + [mood_chart(width, trend)]


def course_pdf(report: CourseReport) -> bytes:
    p = report.patient
    frame = PageFrame(
        clinic=report.clinic, title="Patient course summary",
        patient=f"{p.family_name.upper()}, {p.given_name}", mrn=p.mrn,
        birth_date=p.birth_date.isoformat(), record_date=_range(report),
        status="summary of the records as of printing", signed=True,
        content_hash=report.content_hash,
        printed=f"{local_time(report.printed_at, True)} by {report.printed_by}", paper=report.paper,
        clinic_address=report.clinic_address, clinic_logo=report.clinic_logo,
        audit_head=report.audit_head.printed if report.audit_head else "")
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=page_size(report.paper), leftMargin=MARGIN,
                            rightMargin=MARGIN, topMargin=MARGIN + HEADER_H,
                            bottomMargin=MARGIN + FOOTER_H,
                            title=f"Course — {frame.patient}", author=report.clinic,
                            keywords=report.audit_head.keyword if report.audit_head else "")
    o = report.outcome
    story: list[Flowable] = [
        Paragraph("Course of ketamine infusions", STYLES["h1"]),
        para(f"Indication: {p.indication or '—'} · allergies: {p.allergies or 'none recorded'}",
           "body"),
        Paragraph("Summary", STYLES["h2"]), _summary(o),
        Paragraph("Pain across the series", STYLES["h2"]), course_chart(doc.width, o),
        Paragraph("Infusions", STYLES["h2"]),
        para("R = responder (NRS down by ≥ the threshold). Relief: how long NRS stayed at or "
           "below that level after the infusion, from follow-ups before the next infusion.",
           "note"),
        _sessions(report)]
    story += _series(report)
    if report.mood is not None:
        story += _mood(report.mood, doc.width)
    story += _adverse(o)
    story += _follow_ups(o)
    doc.build(story, canvasmaker=numbered_canvas(frame))
    return buffer.getvalue()
