"""The course chart for paper: NRS before (○) and after (●) each infusion, joined by a
line per session, and each session's follow-up scores plotted at their days since
that infusion, so the relief curve and its duration are visible in black and white."""

from __future__ import annotations

from reportlab.graphics.shapes import Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors

from ketalog.domain.course import CourseOutcome
from ketalog.domain.mood_course import MoodSource, MoodTrend
from ketalog.domain.scales import PHQ9_FLAG_AT
from ketalog.reports.blocks import local_time
from ketalog.reports.fonts import SANS


def course_chart(width: float, outcome: CourseOutcome) -> Drawing:
    height = 170.0
    left, right, bottom, top = 30.0, 10.0, 28.0, 18.0
    plot_w, plot_h = width - left - right, height - bottom - top
    d = Drawing(width, height)
    sessions = outcome.sessions
    if not sessions:
        d.add(String(left, height / 2, "No infusions in this range.", fontName=SANS,
                     fontSize=8))
        return d
    t0 = sessions[0].session.infusion_start.timestamp()
    ends = [s.session.anchor.timestamp() for s in sessions]
    for s in sessions:
        ends += [s.session.anchor.timestamp() + v.hours_after * 3600 for v in s.follow_ups
                 if v.counted]
    t1 = max(ends + [t0 + 86400])
    span = t1 - t0

    def x_of(t: float) -> float:
        return left + (t - t0) / span * plot_w

    def y_of(nrs: float) -> float:
        return bottom + nrs / 10 * plot_h

    grey = colors.HexColor("#bbbbbb")
    d.add(Rect(left, bottom, plot_w, plot_h, fillColor=None, strokeColor=colors.black,
               strokeWidth=0.5))
    for nrs in range(0, 11, 2):
        d.add(Line(left, y_of(nrs), left + plot_w, y_of(nrs), strokeColor=grey,
                   strokeWidth=0.25))
        d.add(String(left - 3, y_of(nrs) - 2, str(nrs), fontName=SANS, fontSize=6.5,
                     textAnchor="end"))
    days = span / 86400
    step = next((s for s in (1, 2, 7, 14, 28, 56, 91) if days / s <= 12), 182)
    for k in range(0, int(days) + 1, step):
        x = x_of(t0 + k * 86400)
        d.add(Line(x, bottom, x, bottom - 3, strokeColor=colors.black, strokeWidth=0.4))
        d.add(String(x, bottom - 11, f"day {k}", fontName=SANS, fontSize=6.5,
                     textAnchor="middle"))
    last_x, level = -1e9, 0
    for number, s in enumerate(sessions, start=1):
        x = x_of(s.session.infusion_start.timestamp())
        level = (level + 1) % 2 if x - last_x < 9 else 0  # alternate rows when crowded
        last_x = x
        d.add(String(x, bottom + plot_h + 2 + 6 * level, str(number), fontName=SANS,
                     fontSize=6, textAnchor="middle"))
        points: list[float] = []
        if s.session.nrs_pre is not None:
            points += [x, y_of(s.session.nrs_pre)]
            d.add(Rect(x - 1.8, y_of(s.session.nrs_pre) - 1.8, 3.6, 3.6, rx=1.8, ry=1.8,
                       fillColor=colors.white, strokeColor=colors.black, strokeWidth=0.6))
        anchor = s.session.anchor.timestamp()
        if s.session.nrs_post is not None:
            points += [x_of(anchor), y_of(s.session.nrs_post)]
        for v in s.follow_ups:
            if v.counted and v.follow_up.nrs is not None:
                fx, fy = x_of(anchor + v.hours_after * 3600), y_of(v.follow_up.nrs)
                points += [fx, fy]
                d.add(Rect(fx - 1.6, fy - 1.6, 3.2, 3.2, fillColor=None,
                           strokeColor=colors.black, strokeWidth=0.5))
        if len(points) >= 4:
            d.add(PolyLine(points, strokeColor=colors.black, strokeWidth=0.7))
        if s.session.nrs_post is not None:
            d.add(Rect(x_of(anchor) - 1.8, y_of(s.session.nrs_post) - 1.8, 3.6, 3.6, rx=1.8,
                       ry=1.8, fillColor=colors.black, strokeColor=None))
    legend = ("NRS pain 0-10:  ○ before infusion   ● after   □ follow-up   "
              "numbers on top: infusions in order")
    d.add(String(left, 4, legend, fontName=SANS, fontSize=6.5))
    return d


def mood_chart(width: float, trend: MoodTrend) -> Drawing:
    """PHQ-9 totals by date (● at the infusion, □ at follow-ups), dashed line at 10."""
    height = 120.0
    left, right, bottom, top = 30.0, 10.0, 24.0, 8.0
    plot_w, plot_h = width - left - right, height - bottom - top
    d = Drawing(width, height)
    points = trend.points
    if not points:
        d.add(String(left, height / 2, "No PHQ-9 recorded in this range.", fontName=SANS,
                     fontSize=8))
        return d
    t0 = points[0].at.timestamp() - 43200
    span = max(points[-1].at.timestamp() + 43200 - t0, 86400.0)

    def x_of(t: float) -> float:
        return left + (t - t0) / span * plot_w

    def y_of(score: float) -> float:
        return bottom + score / 27 * plot_h

    grey = colors.HexColor("#bbbbbb")
    d.add(Rect(left, bottom, plot_w, plot_h, fillColor=None, strokeColor=colors.black,
               strokeWidth=0.5))
    for score in (0, 5, 10, 15, 20, 27):
        d.add(Line(left, y_of(score), left + plot_w, y_of(score), strokeColor=grey,
                   strokeWidth=0.25, strokeDashArray=[2, 2] if score == PHQ9_FLAG_AT else None))
        d.add(String(left - 3, y_of(score) - 2, str(score), fontName=SANS, fontSize=6.5,
                     textAnchor="end"))
    first, last = points[0].at, points[-1].at
    d.add(String(left, bottom - 10, local_time(first, True)[:10], fontName=SANS, fontSize=6.5))
    d.add(String(left + plot_w, bottom - 10, local_time(last, True)[:10], fontName=SANS,
                 fontSize=6.5, textAnchor="end"))
    line: list[float] = []
    for p in points:
        x, y = x_of(p.at.timestamp()), y_of(p.phq9)
        line += [x, y]
        filled = p.source is MoodSource.SESSION
        d.add(Rect(x - 1.8, y - 1.8, 3.6, 3.6, rx=1.8 if filled else 0, ry=1.8 if filled else 0,
                   fillColor=colors.black if filled else colors.white,
                   strokeColor=colors.black, strokeWidth=0.5))
    if len(line) >= 4:
        d.add(PolyLine(line, strokeColor=colors.black, strokeWidth=0.7))
    d.add(String(left, 4, "PHQ-9 0-27 by date:  ● at the infusion   □ follow-up call   "
                 "dashed: 10 (moderate or worse at or above)",
                 fontName=SANS, fontSize=6.5))
    return d
