"""Event labels on the live chart stay inside the plot: a marker near the right edge
puts its label on the left of its line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ketalog.domain.alerts import AlertThresholds
from ketalog.domain.entities import VitalsReading
from ketalog.ui.session_chart import ChartMarker, SessionChart

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def test_marker_labels_not_clipped(qtbot):
    chart = SessionChart()
    qtbot.addWidget(chart)
    chart.resize(900, 420)
    chart.show()
    qtbot.waitExposed(chart)
    readings = [VitalsReading(i, f"v{i}", 1, T0 + timedelta(minutes=5 * i), sbp_mmhg=120.0,
                              dbp_mmhg=80.0, hr_bpm=70.0) for i in range(40)]
    markers = [ChartMarker(T0 + timedelta(minutes=2), "bolus 20 mg", "bolus"),
               ChartMarker(T0 + timedelta(minutes=195), "ondansetron 4 mg IV", "adjunct")]
    chart.set_window(T0, T0 + timedelta(minutes=195), lambda: T0 + timedelta(minutes=195),
                     live=False)
    chart.set_data(readings, [], markers, AlertThresholds())
    qtbot.wait(50)
    box = chart.vitals_plot.vb.sceneBoundingRect()
    for line in chart._marker_items:
        label = line.label.sceneBoundingRect()
        assert box.left() - 1 <= label.left() and label.right() <= box.right() + 1, (
            line.label.toPlainText(), label, box)
