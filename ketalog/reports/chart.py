"""The session chart drawn natively (reportlab.graphics, vector, not a screenshot), readable
in black and white: each series has its own line style and marker, not only a colour.

Long device series are reduced per bucket to their lowest and highest value (one bucket
per ~0.5 mm), so every reading still shapes the line and every extreme is drawn."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from reportlab import rl_config
from reportlab.graphics.shapes import Drawing, Line, Polygon, PolyLine, Rect, String
from reportlab.lib import colors

from ketalog.domain.dosing import Segment
from ketalog.domain.entities import VitalsReading
from ketalog.reports.fonts import SANS, SANS_BOLD

# Shapes are built from validated domain values; ReportLab's per-attribute checks cost
# more than drawing them (documented switch, rl_config.shapeChecking).
rl_config.shapeChecking = 0
MARKERS_UP_TO = 150  # beyond this, markers would merge into a smear


@dataclass(frozen=True)
class SeriesStyle:
    field: str
    label: str
    colour: colors.Color
    dash: tuple[float, ...] | None
    marker: str  # "up", "down", "circle", "square", ""
    right_axis: bool = False


SERIES = (
    SeriesStyle("sbp_mmhg", "SBP mmHg", colors.HexColor("#b71c1c"), None, "up"),
    SeriesStyle("dbp_mmhg", "DBP mmHg", colors.HexColor("#b71c1c"), None, "down"),
    SeriesStyle("map_mmhg", "MAP mmHg", colors.HexColor("#6d1b1b"), (4, 2), ""),
    SeriesStyle("hr_bpm", "HR /min", colors.HexColor("#1b5e20"), (1, 1.5), "circle"),
    SeriesStyle("spo2_pct", "SpO2 % (right axis)", colors.HexColor("#0d47a1"), (5, 2, 1, 2),
                "square", right_axis=True),
)


@dataclass(frozen=True)
class EventMark:
    at: datetime
    number: int  # explained in the events table under the chart


def _reduce(points: list[tuple[float, float]], buckets: int) -> list[tuple[float, float]]:
    if len(points) <= 2 * buckets:
        return points
    x0, x1 = points[0][0], points[-1][0]
    width = (x1 - x0) / buckets or 1.0
    out: list[tuple[float, float]] = []
    current: list[tuple[float, float]] = []
    index = 0
    for p in points:
        b = min(buckets - 1, int((p[0] - x0) / width))
        if b != index and current:
            out += sorted((min(current, key=lambda q: q[1]), max(current, key=lambda q: q[1])))
            current = []
        index = b
        current.append(p)
    if current:
        out += sorted((min(current, key=lambda q: q[1]), max(current, key=lambda q: q[1])))
    return out


def _marker(kind: str, x: float, y: float, colour: colors.Color) -> Polygon | Rect | None:
    s = 1.8
    if kind == "up":
        return Polygon([x - s, y - s, x + s, y - s, x, y + s], fillColor=colour,
                       strokeColor=None)
    if kind == "down":
        return Polygon([x - s, y + s, x + s, y + s, x, y - s], fillColor=colour,
                       strokeColor=None)
    if kind == "square":
        return Rect(x - 1.4, y - 1.4, 2.8, 2.8, fillColor=colour, strokeColor=None)
    if kind == "circle":
        return Rect(x - 1.3, y - 1.3, 2.6, 2.6, rx=1.3, ry=1.3, fillColor=colors.white,
                    strokeColor=colour, strokeWidth=0.6)
    return None


def _ticks(t0: float, t1: float) -> list[float]:
    span = t1 - t0
    step = next((s for s in (300, 600, 900, 1800, 3600, 7200) if span / s <= 10), 14400)
    first = (int(t0) // step + 1) * step
    return [float(t) for t in range(first, int(t1) + 1, step)]


def session_chart(width: float, vitals: Sequence[VitalsReading], segments: Sequence[Segment],
                  boluses: Sequence[tuple[datetime, float]], events: Sequence[EventMark],
                  start: datetime, end: datetime) -> Drawing:
    """Vitals on top (BP/MAP/HR left axis, SpO2 right axis 80-100 %), the dose rate in
    mg/h as a step line in a strip below, numbered event lines across both."""
    height = 235.0
    left, right = 34.0, 30.0
    plot_w = width - left - right
    top_y0, top_h = 78.0, 135.0  # vitals plot
    rate_y0, rate_h = 18.0, 48.0  # rate strip
    d = Drawing(width, height)
    t0, t1 = start.timestamp(), max(end.timestamp(), start.timestamp() + 60)

    def x_of(t: float) -> float:
        return left + (t - t0) / (t1 - t0) * plot_w

    values = [getattr(r, s.field) for r in vitals for s in SERIES if not s.right_axis]
    low = min([v for v in values if v is not None] + [60.0])
    high = max([v for v in values if v is not None] + [160.0])
    low, high = 10 * (low // 10), 10 * (high // 10 + 1)

    def y_left(v: float) -> float:
        return top_y0 + (v - low) / (high - low) * top_h

    def y_right(v: float) -> float:
        return top_y0 + (min(max(v, 80.0), 100.0) - 80.0) / 20.0 * top_h

    grey = colors.HexColor("#bbbbbb")
    for y0, h in ((top_y0, top_h), (rate_y0, rate_h)):
        d.add(Rect(left, y0, plot_w, h, fillColor=None, strokeColor=colors.black,
                   strokeWidth=0.5))
    for tick in _ticks(t0, t1):
        x = x_of(tick)
        for y0, h in ((top_y0, top_h), (rate_y0, rate_h)):
            d.add(Line(x, y0, x, y0 + h, strokeColor=grey, strokeWidth=0.25))
        label = datetime.fromtimestamp(tick).astimezone().strftime("%H:%M")
        d.add(String(x, rate_y0 - 9, label, fontName=SANS, fontSize=6.5, textAnchor="middle"))
    step = 20 if high - low <= 160 else 40
    for v in range(int(low), int(high) + 1, step):
        y = y_left(v)
        d.add(Line(left, y, left + plot_w, y, strokeColor=grey, strokeWidth=0.25))
        d.add(String(left - 3, y - 2, f"{v}", fontName=SANS, fontSize=6.5, textAnchor="end"))
    for v in (80, 85, 90, 95, 100):
        d.add(String(left + plot_w + 3, y_right(v) - 2, f"{v}", fontName=SANS, fontSize=6.5))
    d.add(String(4, top_y0 + top_h + 6, "mmHg · /min", fontName=SANS, fontSize=6.5))
    d.add(String(width - 4, top_y0 + top_h + 6, "SpO2 %", fontName=SANS, fontSize=6.5,
                 textAnchor="end"))

    buckets = int(plot_w / 1.5)
    for style in SERIES:
        points = [(r.at.timestamp(), float(getattr(r, style.field))) for r in vitals
                  if getattr(r, style.field) is not None]
        points = _reduce(sorted(points), buckets)
        y_of = y_right if style.right_axis else y_left
        coords = [c for t, v in points for c in (x_of(t), y_of(v))]
        if len(points) > 1:
            d.add(PolyLine(coords, strokeColor=style.colour, strokeWidth=0.8,
                           strokeDashArray=list(style.dash) if style.dash else None))
        if len(points) <= MARKERS_UP_TO and style.marker:
            for t, v in points:
                mark = _marker(style.marker, x_of(t), y_of(v), style.colour)
                if mark is not None:
                    d.add(mark)

    rates = [s.rate_mg_per_h for s in segments] + [1.0]
    rate_max = max(rates) * 1.15
    steps: list[float] = []
    for seg in segments:
        seg_end = (seg.end or end).timestamp()
        y = rate_y0 + seg.rate_mg_per_h / rate_max * rate_h
        steps += [x_of(seg.start.timestamp()), rate_y0, x_of(seg.start.timestamp()), y,
                  x_of(seg_end), y, x_of(seg_end), rate_y0]
    if steps:
        d.add(PolyLine(steps, strokeColor=colors.HexColor("#4a148c"), strokeWidth=1.1))
    d.add(String(left - 3, rate_y0 + rate_h - 6, f"{rate_max / 1.15:.0f}", fontName=SANS,
                 fontSize=6.5, textAnchor="end"))
    d.add(String(left - 3, rate_y0 - 2, "0", fontName=SANS, fontSize=6.5, textAnchor="end"))
    d.add(String(left + 3, rate_y0 + rate_h - 8, "rate mg/h", fontName=SANS, fontSize=6.5))
    for at, _mg in boluses:
        x = x_of(at.timestamp())
        d.add(Polygon([x - 3, rate_y0 + 2, x + 3, rate_y0 + 2, x, rate_y0 + 8],
                      fillColor=colors.HexColor("#4a148c"), strokeColor=None))
    last_x, level = -1e9, 0
    for event in sorted(events, key=lambda e: e.at):
        x = x_of(event.at.timestamp())
        level = level + 1 if x - last_x < 11 else 0  # stagger labels that would overlap
        last_x = x
        label_y = top_y0 + top_h + 1 - level * 11
        d.add(Line(x, rate_y0, x, top_y0 + top_h, strokeColor=colors.black, strokeWidth=0.4,
                   strokeDashArray=[1, 2]))
        d.add(Rect(x - 4.5, label_y, 9, 9, fillColor=colors.white,
                   strokeColor=colors.black, strokeWidth=0.4))
        d.add(String(x, label_y + 2, str(event.number), fontName=SANS_BOLD,
                     fontSize=6.5, textAnchor="middle"))

    x = left
    for style in SERIES:
        d.add(Line(x, height - 6, x + 14, height - 6, strokeColor=style.colour, strokeWidth=0.9,
                   strokeDashArray=list(style.dash) if style.dash else None))
        mark = _marker(style.marker, x + 7, height - 6, style.colour)
        if mark is not None:
            d.add(mark)
        d.add(String(x + 17, height - 8.5, style.label, fontName=SANS, fontSize=6.5))
        x += 22 + 6.5 * 0.55 * len(style.label) + 6
    d.add(Line(x, height - 6, x + 14, height - 6, strokeColor=colors.HexColor("#4a148c"),
               strokeWidth=1.1))
    d.add(String(x + 17, height - 8.5, "rate mg/h (▲ bolus)", fontName=SANS, fontSize=6.5))
    return d
