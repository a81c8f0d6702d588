"""The live chart holds what it was given and draws the dose rate as the domain says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from ketalog.domain import dosing
from ketalog.domain.alerts import AlertThresholds
from ketalog.domain.entities import DoseEvent, DoseKind, VitalsReading
from ketalog.ui.session_chart import BAND_POINTS, ChartMarker, SessionChart, bp_envelope

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def vitals(n: int, step_min: float = 5, **kw: object) -> list[VitalsReading]:
    return [VitalsReading(i, f"v{i}", 1, at(i * step_min), sbp_mmhg=120.0 + i % 7,
                          dbp_mmhg=80.0, map_mmhg=93.0, hr_bpm=70.0, spo2_pct=98.0, **kw)  # type: ignore[arg-type]
            for i in range(n)]


def dose(i: int, minutes: float, kind: DoseKind, **kw: float) -> DoseEvent:
    return DoseEvent(i, f"d{i}", 1, at(minutes), kind, **kw)


DOSES = [dose(1, 0, DoseKind.START, rate_mg_per_h=41.0),
         dose(2, 90, DoseKind.RATE_CHANGE, rate_mg_per_h=61.5),
         dose(3, 120, DoseKind.PAUSE), dose(4, 130, DoseKind.RESUME),
         dose(5, 200, DoseKind.BOLUS, bolus_mg=10.0), dose(6, 240, DoseKind.STOP)]


@pytest.fixture
def chart(qtbot):
    widget = SessionChart()
    qtbot.addWidget(widget)
    widget.resize(1000, 500)
    return widget


def test_data_in_series_and_artifacts_kept_apart(chart):
    readings = vitals(10)
    readings[3] = VitalsReading(3, "v3", 1, at(15), sbp_mmhg=60.0, dbp_mmhg=40.0,
                                artifact=True, artifact_reason="cuff")
    chart.set_data(readings, DOSES, [], AlertThresholds())
    lengths = chart.series_lengths()
    assert lengths["sbp"] == 9 and lengths["spo2"] == 9
    assert len(chart.artifacts) == 1
    chart.append_vitals(vitals(11)[10])
    assert chart.series_lengths()["hr"] == 10


def test_late_entry_lands_in_time_order(chart):
    chart.set_data(vitals(4), [], [], AlertThresholds())
    late = VitalsReading(99, "late", 1, at(2.5), hr_bpm=88.0)
    chart.append_vitals(late)
    x = chart.data.x[: chart.data.n]
    assert list(x) == sorted(x)
    assert chart.series_lengths()["hr"] == 5 and chart.series_lengths()["sbp"] == 4


def test_rate_step_line_equals_domain_segments(chart):
    chart.set_data(vitals(49), DOSES, [], AlertThresholds())
    xs, ys = chart.rate_steps()

    def curve_rate(when: datetime) -> float:
        t = when.timestamp()
        inside = [y for x0, x1, y in zip(xs[1::4], xs[2::4], ys[1::4], strict=True)
                  if x0 <= t < x1]
        return inside[0] if inside else 0.0

    for minutes in (0, 30, 89.9, 90, 119, 121, 129, 130, 239, 241):
        assert curve_rate(at(minutes)) == pytest.approx(dosing.rate_at(DOSES, at(minutes)))


def test_thresholds_and_markers(chart):
    chart.set_data(vitals(3), DOSES, [ChartMarker(at(10), "ondansetron 4 mg IV", "adjunct"),
                                      ChartMarker(at(12), "nausea (mild)", "side_effect")],
                   AlertThresholds())
    values = chart.threshold_values()
    assert values["sbp_mmhg_high"] == 180 and values["sbp_mmhg_low"] == 90
    assert values["hr_bpm_high"] == 120 and values["hr_bpm_low"] == 50
    assert values["spo2_pct_low"] == 92
    assert chart.marker_labels() == ["ondansetron 4 mg IV", "nausea (mild)"]
    chart.set_markers([])
    assert chart.marker_labels() == []


def test_reset_view_restores_the_full_range_after_zoom(chart, qtbot):
    chart.set_data(vitals(49), DOSES, [], AlertThresholds())
    chart.show()
    qtbot.wait(50)
    full = chart.vitals_plot.viewRange()[0]
    chart.vitals_plot.setXRange(at(10).timestamp(), at(20).timestamp(), padding=0)
    assert chart.vitals_plot.viewRange()[0][1] - chart.vitals_plot.viewRange()[0][0] < 700
    chart.reset_view()
    restored = chart.vitals_plot.viewRange()[0]
    assert restored[0] <= at(0).timestamp() and restored[1] >= at(240).timestamp()
    assert np.allclose(restored, full, atol=60)
    assert not chart.grab().isNull()


def test_four_hour_device_series_loads_whole(chart):
    readings = vitals(14_400, step_min=1 / 60)
    chart.set_data(readings, DOSES, [], AlertThresholds())
    assert chart.series_lengths()["sbp"] == 14_400
    assert chart.curves["sbp"].opts["symbol"] is None  # no per-point symbols at 1 Hz


def test_bp_band_envelope_covers_every_reading_in_few_points():
    rng = np.random.default_rng(3)
    x = np.arange(14_400, dtype=float)
    sbp, dbp = rng.normal(130, 10, x.size), rng.normal(80, 8, x.size)
    sbp[7] = np.nan  # a reading without BP is left out, not drawn at zero
    bx, upper, lower = bp_envelope(x, sbp, dbp)
    assert len(bx) == BAND_POINTS
    assert upper.max() == np.nanmax(sbp) and lower.min() == dbp[~np.isnan(sbp)].min()
    assert np.all(np.diff(bx) > 0)
    few = bp_envelope(x[:10], sbp[:10], dbp[:10])
    assert len(few[0]) == 9  # as they are, minus the one without SBP


def test_appends_are_coalesced_into_one_redraw(chart, qtbot):
    chart.set_data(vitals(700, step_min=1 / 60), DOSES, [], AlertThresholds())
    drawn = len(chart.curves["hr"].getOriginalDataset()[0])
    for i in range(700, 710):
        chart.append_vitals(vitals(i + 1, step_min=1 / 60)[i])
    assert chart.series_lengths()["hr"] == 710  # held at once
    assert len(chart.curves["hr"].getOriginalDataset()[0]) == drawn  # drawn later, once
    qtbot.waitUntil(lambda: len(chart.curves["hr"].getOriginalDataset()[0]) == 710, timeout=2000)
    assert chart.curves["hr"].opts["pen"].widthF() == 1.0  # dense data: thin pens


def test_a_reading_without_bp_keeps_the_bp_drawn(chart):
    """SpO2 alone a minute after one BP: the BP point stays drawn (NaNs in the series once
    made pyqtgraph's clipped symbols vanish) and the BP line is not broken by it."""
    chart.set_window(T0, T0 + timedelta(hours=4), lambda: T0 + timedelta(minutes=2), True)
    chart.set_data([], [], [], AlertThresholds())
    chart.append_vitals(VitalsReading(1, "a", 1, at(0), sbp_mmhg=128.0, dbp_mmhg=82.0,
                                      hr_bpm=76.0))
    chart.append_vitals(VitalsReading(2, "b", 1, at(1), spo2_pct=86.0))
    chart.flush()
    xs, ys = chart.curves["sbp"].scatter.getData()
    assert list(ys) == [128.0] and list(xs) == [at(0).timestamp()]
    assert np.isfinite(chart.curves["sbp"].dataBounds(1)).all()
