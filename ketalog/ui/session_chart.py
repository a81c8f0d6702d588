"""The live session chart: blood pressure (SBP/DBP band with paired markers), MAP and HR
on the left axis, SpO2 on its own right axis, the dose rate as a step line in a strip
below, events as labelled vertical lines, alert thresholds as faint dashed lines.

Series live in growable numpy arrays so one new reading costs one setData, not a
rebuild; long device series are downsampled (peak) and clipped to the view."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSignalBlocker, Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from ketalog.domain import dosing
from ketalog.domain.alerts import AlertThresholds
from ketalog.domain.entities import DoseEvent, VitalsReading
from ketalog.services.vitals_series import VitalsColumns

SERIES = ("sbp", "dbp", "map", "hr", "spo2")
FIELD = {"sbp": "sbp_mmhg", "dbp": "dbp_mmhg", "map": "map_mmhg", "hr": "hr_bpm",
         "spo2": "spo2_pct"}
SYMBOLS_UP_TO = 600  # beyond this (device data) symbols cost more than they tell
PEN_WIDTHS = {"sbp": 1.6, "dbp": 1.6, "map": 1.3, "hr": 1.6, "spo2": 1.6}
REDRAW_DELAY_MS = 50
BAND_POINTS = 400  # the BP band is a faint envelope: filling a 1 Hz zigzag costs seconds
FOLLOW_AHEAD_S = 10 * 60  # while following, "now" sits this far from the right edge
EDGE_PAD_S = 2 * 60
EMPTY_BP_RANGE = (40.0, 200.0)  # mmHg and /min, before anything is measured
EMPTY_RATE_MAX = 60.0  # mg/h, before any rate
MARKER_COLOURS = {"bolus": "#6a1b9a", "adjunct": "#1565c0", "side_effect": "#c62828",
                  "note": "#555555"}


@dataclass(frozen=True)
class ChartMarker:
    at: datetime
    label: str
    kind: str  # "bolus" | "adjunct" | "side_effect" | "note"


class _Series:
    """Timestamps and values with spare capacity, NaN where a reading lacks the value."""

    def __init__(self) -> None:
        self.x = np.empty(256)
        self.y = {name: np.empty(256) for name in SERIES}
        self.n = 0

    def clear(self) -> None:
        self.n = 0

    def _grow(self, need: int) -> None:
        if need <= len(self.x):
            return
        size = max(need, 2 * len(self.x))
        self.x = np.resize(self.x, size)
        self.y = {k: np.resize(v, size) for k, v in self.y.items()}

    def load(self, x: np.ndarray, y: dict[str, np.ndarray]) -> None:
        n = len(x)
        self._grow(n)
        self.x[:n] = x
        for name in SERIES:
            self.y[name][:n] = y[name]
        self.n = n

    def insert(self, reading: VitalsReading) -> None:
        self._grow(self.n + 1)
        t = reading.at.timestamp()
        pos = self.n
        if pos and self.x[pos - 1] > t:  # a late entry: keep time order
            pos = int(np.searchsorted(self.x[: self.n], t, side="right"))
            self.x[pos + 1: self.n + 1] = self.x[pos: self.n]
            for v in self.y.values():
                v[pos + 1: self.n + 1] = v[pos: self.n]
        self._put(pos, reading)
        self.n += 1

    def _put(self, i: int, r: VitalsReading) -> None:
        self.x[i] = r.at.timestamp()
        for name in SERIES:
            value = getattr(r, FIELD[name])
            self.y[name][i] = np.nan if value is None else value


def _artifact_mark(r: VitalsReading) -> tuple[float, float]:
    return r.at.timestamp(), (r.sbp_mmhg if r.sbp_mmhg is not None else r.hr_bpm or 0.0)


def bp_envelope(x: np.ndarray, sbp: np.ndarray, dbp: np.ndarray,
                max_points: int = BAND_POINTS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Readings with both pressures; beyond max_points, buckets of (mean time, highest
    SBP, lowest DBP) so the band still covers every reading."""
    both = ~(np.isnan(sbp) | np.isnan(dbp))
    x, sbp, dbp = x[both], sbp[both], dbp[both]
    if len(x) <= max_points:
        return x, sbp, dbp
    edges = np.linspace(0, len(x), max_points + 1).astype(int)
    starts = edges[:-1]
    counts = np.diff(edges)
    return (np.add.reduceat(x, starts) / counts, np.maximum.reduceat(sbp, starts),
            np.minimum.reduceat(dbp, starts))


def _pen(colour: str, width: float = 1.6, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> object:
    return pg.mkPen(colour, width=width, style=style)


class SessionChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sessionChart")
        pg.setConfigOptions(antialias=True, background="w", foreground="#222")
        self.data = _Series()
        self.artifacts: list[tuple[float, float]] = []  # (time, height) of each x mark
        self._markers: list[ChartMarker] = []
        self._marker_items: list[pg.InfiniteLine] = []
        self._threshold_items: dict[str, pg.InfiniteLine] = {}
        self._doses: list[DoseEvent] = []
        self._sparse = True  # few (manual) readings: wide pens and symbols
        # The session's window (arrival to planned end) and the clock: while following,
        # the x range is that window, growing with now and with the readings.
        self.window_start: datetime | None = None
        self.planned_end: datetime | None = None
        self.now: Callable[[], datetime] | None = None
        self.live = False  # the session still takes entries: the window grows with now
        self.following = True  # False once the user pans or zooms; Reset view restores it
        # Appending is O(1); the redraw (all points, for pyqtgraph) follows within 50 ms.
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(REDRAW_DELAY_MS)
        self._redraw_timer.timeout.connect(self._redraw_vitals)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setObjectName("sessionChartView")
        self.vitals_plot = self.view.addPlot(row=0, col=0,
                                             axisItems={"bottom": pg.DateAxisItem()})
        self.dose_plot = self.view.addPlot(row=1, col=0,
                                           axisItems={"bottom": pg.DateAxisItem()})
        self.view.ci.layout.setRowStretchFactor(0, 3)
        self.view.ci.layout.setRowStretchFactor(1, 1)
        self.dose_plot.setXLink(self.vitals_plot)
        self._setup_vitals_plot()
        self._setup_dose_plot()
        for box in (self.vitals_plot.vb, self.dose_plot.vb):
            box.sigRangeChangedManually.connect(self._user_moved)
        reset = QToolButton()
        reset.setObjectName("resetChartView")
        reset.setText("Reset view")
        reset.setToolTip("Show the whole session and follow new readings again (Ctrl+R). "
                         "Drag to pan, wheel to zoom.")
        self.reset_button = reset
        reset.clicked.connect(self.reset_view)
        top = QHBoxLayout()
        legend_text = QLabel(
            "<span style='color:#c62828'>▲ SBP ▼ DBP mmHg (band)</span> &nbsp; "
            "<span style='color:#8e2424'>- - MAP mmHg</span> &nbsp; "
            "<span style='color:#2e7d32'>● HR /min</span> &nbsp; "
            "<span style='color:#1565c0'>■ SpO2 % (right axis)</span> &nbsp; "
            "<span style='color:#6a1b9a'>▬ rate mg/h, ★ bolus (below)</span>")
        legend_text.setObjectName("chartLegend")
        top.addWidget(legend_text, 1)
        top.addWidget(reset)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)

    # -- construction -------------------------------------------------------
    def _setup_vitals_plot(self) -> None:
        p = self.vitals_plot
        p.setLabel("left", "BP mmHg · HR /min")
        p.showGrid(x=True, y=True, alpha=0.15)
        p.setClipToView(True)
        p.setDownsampling(auto=True, mode="peak")
        p.getAxis("bottom").setStyle(showValues=False)
        self.curves = {
            "sbp": p.plot(name="SBP mmHg", pen=_pen("#c62828"), symbol="t1", symbolSize=7,
                          symbolBrush="#c62828", symbolPen=None),
            "dbp": p.plot(name="DBP mmHg", pen=_pen("#c62828"), symbol="t", symbolSize=7,
                          symbolBrush="#c62828", symbolPen=None),
            "map": p.plot(name="MAP mmHg", pen=_pen("#8e2424", 1.3, Qt.PenStyle.DashLine)),
            "hr": p.plot(name="HR /min", pen=_pen("#2e7d32"), symbol="o", symbolSize=5,
                         symbolBrush="#2e7d32", symbolPen=None),
        }
        # The band fills between two unseen envelope curves, not the drawn SBP/DBP lines.
        self._band_upper, self._band_lower = pg.PlotCurveItem(), pg.PlotCurveItem()
        self.band = pg.FillBetweenItem(self._band_upper, self._band_lower,
                                       brush=pg.mkBrush(198, 40, 40, 35))
        p.addItem(self.band)
        # SpO2 on its own right axis (pyqtgraph's multiple-axes pattern).
        self.spo2_box = pg.ViewBox()
        p.showAxis("right")
        p.scene().addItem(self.spo2_box)
        p.getAxis("right").linkToView(self.spo2_box)
        p.getAxis("right").setLabel("SpO2 %")
        self.spo2_box.setXLink(p)
        self.spo2_box.setYRange(80, 101, padding=0)
        self.spo2_box.setMouseEnabled(y=False)
        self.curves["spo2"] = pg.PlotDataItem(name="SpO2 %", pen=_pen("#1565c0"), symbol="s",
                                              symbolSize=5, symbolBrush="#1565c0",
                                              symbolPen=None)
        self.curves["spo2"].setClipToView(True)
        self.curves["spo2"].setDownsampling(auto=True, method="peak")
        self.spo2_box.addItem(self.curves["spo2"])
        for curve in self.curves.values():
            # Peak downsampling keeps two points per bucket: one bucket per pixel is enough.
            curve.opts["autoDownsampleFactor"] = 1.0
        self.artifact_scatter = pg.ScatterPlotItem(symbol="x", size=8,
                                                   pen=pg.mkPen("#888"), brush=None)
        p.addItem(self.artifact_scatter)
        p.vb.sigResized.connect(self._sync_spo2_box)
        self._sync_spo2_box()

    def _setup_dose_plot(self) -> None:
        p = self.dose_plot
        p.setLabel("left", "rate mg/h")
        p.setLabel("bottom", "clock time")
        p.showGrid(x=True, y=True, alpha=0.15)
        p.setMouseEnabled(y=False)
        self.rate_curve = p.plot(pen=_pen("#6a1b9a", 2.0), fillLevel=0,
                                 brush=pg.mkBrush(106, 27, 154, 40))
        self.bolus_scatter = pg.ScatterPlotItem(symbol="star", size=13,
                                                brush=pg.mkBrush("#6a1b9a"), pen=None)
        p.addItem(self.bolus_scatter)

    def _sync_spo2_box(self) -> None:
        self.spo2_box.setGeometry(self.vitals_plot.vb.sceneBoundingRect())
        self.spo2_box.linkedViewChanged(self.vitals_plot.vb, self.spo2_box.XAxis)

    # -- data ---------------------------------------------------------------
    def set_data(self, vitals: Sequence[VitalsReading], doses: Sequence[DoseEvent],
                 markers: Sequence[ChartMarker], thresholds: AlertThresholds) -> None:
        self.set_columns(VitalsColumns.from_readings(vitals), doses, markers, thresholds)

    def set_columns(self, columns: VitalsColumns, doses: Sequence[DoseEvent],
                    markers: Sequence[ChartMarker], thresholds: AlertThresholds) -> None:
        x = np.array(columns.at_s, dtype=float)
        artifact = np.array(columns.artifact, dtype=bool)
        y = {name: np.array(columns.values[FIELD[name]], dtype=float) for name in SERIES}
        keep = ~artifact
        self.data.load(x[keep], {name: v[keep] for name, v in y.items()})
        marks = np.where(np.isnan(y["sbp"]), np.nan_to_num(y["hr"]), y["sbp"])[artifact]
        self.artifacts = list(zip(x[artifact].tolist(), marks.tolist(), strict=True))
        self._redraw_vitals()
        self._redraw_artifacts()
        self.set_thresholds(thresholds)
        self.set_doses(doses)
        self.set_markers(markers)
        self.reset_view()

    def append_vitals(self, reading: VitalsReading) -> None:
        if reading.artifact:
            self.artifacts.append(_artifact_mark(reading))
            self._redraw_artifacts()
            return
        self.data.insert(reading)
        if not self._redraw_timer.isActive():  # a burst of device readings: one redraw
            self._redraw_timer.start()

    def flush(self) -> None:
        """Draw pending readings now instead of at the next coalesced redraw."""
        if self._redraw_timer.isActive():
            self._redraw_timer.stop()
            self._redraw_vitals()

    def _redraw_vitals(self) -> None:
        self._redraw_timer.stop()
        n = self.data.n
        x = self.data.x[:n]
        show_symbols = n <= SYMBOLS_UP_TO
        for name in SERIES:
            curve = self.curves[name]
            y = self.data.y[name][:n]
            if show_symbols != self._sparse:
                curve.setSymbol(self._symbol(name) if show_symbols else None)
                # Qt strokes wide antialiased pens point by point: 1 px for device data.
                pen = pg.mkPen(curve.opts["pen"])
                pen.setWidthF(PEN_WIDTHS[name] if show_symbols else 1.0)
                curve.setPen(pen)
            if n and np.isnan(y).all():
                curve.setData([], [])  # nothing measured yet: no all-NaN bounds
            else:
                curve.setData(x, y, connect="finite")
        self._sparse = show_symbols
        bx, upper, lower = bp_envelope(x, self.data.y["sbp"][:n], self.data.y["dbp"][:n])
        with QSignalBlocker(self._band_upper):  # the band rebuilds once, on the second
            self._band_upper.setData(bx, upper)
        self._band_lower.setData(bx, lower)
        if self.following and self.window_start is not None:
            self._apply_follow()

    @staticmethod
    def _symbol(name: str) -> str | None:
        return {"sbp": "t1", "dbp": "t", "hr": "o", "spo2": "s"}.get(name)

    def _redraw_artifacts(self) -> None:
        self.artifact_scatter.setData([{"pos": mark} for mark in self.artifacts])

    def set_thresholds(self, thresholds: AlertThresholds) -> None:
        for item, box in self._threshold_items.values():  # type: ignore[misc]
            box.removeItem(item)
        self._threshold_items = {}
        labels = {"sbp_mmhg": "SBP", "hr_bpm": "HR", "spo2_pct": "SpO2", "dbp_mmhg": "DBP"}
        # Labels sit at different x positions so lines at similar heights stay legible.
        label_x = {"sbp_mmhg": 0.01, "dbp_mmhg": 0.12, "hr_bpm": 0.23, "spo2_pct": 0.85}
        for field, band in thresholds.bands.items():
            if field not in labels:
                continue
            box = self.spo2_box if field == "spo2_pct" else self.vitals_plot.vb
            colour = "#1565c0" if field == "spo2_pct" else (
                "#2e7d32" if field == "hr_bpm" else "#c62828")
            for side, value in (("low", band.low), ("high", band.high)):
                if value is None:
                    continue
                line = pg.InfiniteLine(pos=value, angle=0, movable=False,
                                       pen=pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine),
                                       label=f"{labels[field]} {side} {value:g}",
                                       labelOpts={"position": label_x[field], "color": colour,
                                                  "anchors": [(0, 1), (0, 1)]})
                line.setOpacity(0.45)
                box.addItem(line, ignoreBounds=True)
                self._threshold_items[f"{field}_{side}"] = (line, box)  # type: ignore[assignment]

    def set_doses(self, doses: Sequence[DoseEvent]) -> None:
        self._doses = list(dosing.live_events(doses))  # struck events are not plotted
        x, y = self._rate_steps()
        self.rate_curve.setData(x, y)
        self.bolus_scatter.setData([{"pos": (e.at.timestamp(), 0)} for e in self._doses
                                    if e.kind == "bolus"])
        if self.following and self.window_start is not None:
            self._apply_follow()

    def _rate_steps(self) -> tuple[np.ndarray, np.ndarray]:
        xs: list[float] = []
        ys: list[float] = []
        for seg in dosing.segments(self._doses):
            start = seg.start.timestamp()
            if seg.end is not None:
                end = seg.end.timestamp()
            else:  # still running: to now (the stretch is being given), else the last reading
                last = self.data.x[self.data.n - 1] if self.data.n else start
                now = self.now().timestamp() if self.now is not None and self.live else last
                end = max(start, last, now)
            xs += [start, start, end, end]
            ys += [0.0, seg.rate_mg_per_h, seg.rate_mg_per_h, 0.0]
        return np.array(xs, dtype=float), np.array(ys, dtype=float)

    def set_markers(self, markers: Sequence[ChartMarker]) -> None:
        for item in self._marker_items:
            self.vitals_plot.removeItem(item)
        self._marker_items, self._markers = [], []
        for marker in markers:
            self.add_marker(marker)

    def add_marker(self, marker: ChartMarker) -> None:
        colour = MARKER_COLOURS.get(marker.kind, "#555555")
        line = pg.InfiniteLine(pos=marker.at.timestamp(), angle=90, movable=False,
                               pen=pg.mkPen(colour, width=1, style=Qt.PenStyle.DotLine),
                               label=marker.label,
                               labelOpts={"position": 0.97 - 0.09 * (len(self._markers) % 4),
                                          "color": colour, "fill": (255, 255, 255, 200),
                                          # right of the line in the left half,
                                          # left of it near the right edge
                                          "anchors": [(0, 0), (1, 0)]})
        self.vitals_plot.addItem(line, ignoreBounds=True)
        self._marker_items.append(line)
        self._markers.append(marker)

    def x_extent(self) -> tuple[float, float] | None:
        times = [t.timestamp() for t in (e.at for e in self._doses)]
        if self.data.n:
            times += [float(self.data.x[0]), float(self.data.x[self.data.n - 1])]
        times += [t for t, _ in self.artifacts]
        return (min(times), max(times)) if times else None

    # -- following --------------------------------------------------------------
    def set_window(self, start: datetime | None, planned_end: datetime | None,
                   now: Callable[[], datetime] | None, live: bool) -> None:
        """The session's window: arrival to planned end; `live` while it takes entries."""
        self.window_start, self.planned_end, self.now, self.live = start, planned_end, now, live
        if self.following:
            self._apply_follow()

    def _user_moved(self, *_args: object) -> None:
        self.following = False
        self.reset_button.setText("Reset view (following off)")

    def follow_range(self) -> tuple[float, float] | None:
        """The x range while following: the window, grown to every reading and dose and,
        while live, to now plus a margin, so the newest reading is never past the edge."""
        if self.window_start is None:
            return self.x_extent()
        low = self.window_start.timestamp()
        high = (self.planned_end or self.window_start + timedelta(hours=1)).timestamp()
        extent = self.x_extent()
        if extent is not None:
            low, high = min(low, extent[0]), max(high, extent[1] + FOLLOW_AHEAD_S / 2)
        if self.live and self.now is not None:
            high = max(high, self.now().timestamp() + FOLLOW_AHEAD_S)
        return low - EDGE_PAD_S, high + EDGE_PAD_S

    def tick(self) -> None:
        """Called every few seconds by the window: the running rate reaches now and, while
        following, the window keeps now in view."""
        if self.live and any(seg.end is None for seg in dosing.segments(self._doses)):
            self.rate_curve.setData(*self._rate_steps())
        if self.following and self.window_start is not None:
            self._apply_follow()

    def _apply_follow(self) -> None:
        span = self.follow_range()
        if span is None:
            return
        low, high = span
        current = self.vitals_plot.vb.viewRange()[0]
        if abs(current[0] - low) > 1 or abs(current[1] - high) > 1:
            self.vitals_plot.setXRange(low, high, padding=0)
        self._apply_y()

    def _apply_y(self) -> None:
        if self.data.n and not all(np.isnan(self.data.y[n][: self.data.n]).all()
                                   for n in ("sbp", "dbp", "map", "hr")):
            self.vitals_plot.enableAutoRange(axis=pg.ViewBox.YAxis)
        else:  # nothing measured yet: the usual range, not -400..400
            self.vitals_plot.setYRange(*EMPTY_BP_RANGE, padding=0)
        if any(e.rate_mg_per_h for e in self._doses):
            self.dose_plot.enableAutoRange(axis=pg.ViewBox.YAxis)
        else:
            self.dose_plot.setYRange(0, EMPTY_RATE_MAX, padding=0)
        self.spo2_box.setYRange(80, 101, padding=0)

    def view_range(self) -> tuple[float, float]:
        low, high = self.vitals_plot.vb.viewRange()[0]
        return float(low), float(high)

    def reset_view(self) -> None:
        """The whole session, following again. The x range comes from the data itself:
        with clip-to-view, pyqtgraph's autoRange after a zoom only sees the clipped part."""
        self.following = True
        self.reset_button.setText("Reset view")
        if self.window_start is not None:
            self._apply_follow()
            return
        extent = self.x_extent()
        if extent is not None:
            low, high = extent
            pad = max(60.0, (high - low) * 0.02)
            self.vitals_plot.setXRange(low - pad, high + pad, padding=0)
        self._apply_y()

    # -- for tests ------------------------------------------------------------
    def series_lengths(self) -> dict[str, int]:
        n = self.data.n
        return {name: int(np.count_nonzero(~np.isnan(self.data.y[name][:n]))) for name in SERIES}

    def threshold_values(self) -> dict[str, float]:
        return {key: float(item.value()) for key, (item, _box) in  # type: ignore[misc]
                self._threshold_items.items()}

    def marker_labels(self) -> list[str]:
        return [m.label for m in self._markers]

    def rate_steps(self) -> tuple[np.ndarray, np.ndarray]:
        return self._rate_steps()
