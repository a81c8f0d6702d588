"""Opening a 4-hour session with 1 Hz device vitals (14,400 readings x 6 parameters) in
the session screen, chart drawn; and appending one reading to the open chart. Baselines,
same run: a bare pyqtgraph PlotWidget drawing the same six arrays, and a bare curve
setData with one more point and a repaint.

Appending is O(1) and the redraw is coalesced (at most every 50 ms, so a burst of device
readings costs one redraw): the append target is the call; the time until the reading is
on screen is printed beside it against the bare setData+paint."""

from __future__ import annotations

import json
import os
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pyqtgraph as pg  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from benchmarks.common import Figure, median, p99  # noqa: E402
from ketalog.domain.clock import FixedClock, to_iso  # noqa: E402
from ketalog.domain.entities import Bag, DoseKind, Role, VitalsReading  # noqa: E402
from ketalog.services import sessions as svc  # noqa: E402
from ketalog.services.auth import add_user, bootstrap_admin, login  # noqa: E402
from ketalog.services.patients import PatientInput, create_patient  # noqa: E402
from ketalog.store.connection import open_store  # noqa: E402
from ketalog.ui.session_window import SessionWindow  # noqa: E402

N = 14_400
START = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def _session(folder: Path):  # noqa: ANN202
    clock = FixedClock(START)
    store = open_store(folder / "device.sqlite", clock)
    bootstrap_admin(store, clock, "admin", "admin-pass-1")
    add_user(login(store, clock, "admin", "admin-pass-1"), "nurse", [Role.NURSE], "nurse-pass-1")
    nurse = login(store, clock, "nurse", "nurse-pass-1")
    patient = create_patient(nurse, PatientInput("D1", "Device", "Dora", date(1970, 1, 1)))
    session = svc.start_session(nurse, svc.SessionStart(patient.id, 80, Bag("ketamine", 1, 500)))
    svc.record_dose(nurse, session.id, DoseKind.START, rate_mg_per_h=40.0, acknowledge=True)
    rng = np.random.default_rng(1)
    rows = []
    for i in range(N):
        sbp = 125 + 15 * np.sin(i / 2400) + rng.normal(0, 3)
        dbp = sbp - 45
        rows.append({"session_id": session.id, "at": to_iso(START + timedelta(seconds=i)),
                     "sbp_mmhg": round(sbp), "dbp_mmhg": round(dbp),
                     "map_mmhg": round(dbp + (sbp - dbp) / 3), "hr_bpm": round(75 + rng.normal(0, 4)),
                     "spo2_pct": 97.0, "rr_per_min": 14.0, "source": "device:bench",
                     "alerts": json.dumps([]), "entered_at": to_iso(START),
                     "entered_by": nurse.user.id})
    with store.write(nurse.actor) as w:
        w.insert_many("vitals", rows)
    clock.set(START + timedelta(hours=4))
    return store, nurse, session.id


def run() -> list[Figure]:
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        store, nurse, session_id = _session(Path(tmp))
        x = np.array([START.timestamp() + i for i in range(N)], dtype=float)
        ys = [np.random.default_rng(k).normal(100, 10, N) for k in range(6)]

        def bare_open() -> float:
            t0 = time.perf_counter()
            w = pg.PlotWidget()
            for y in ys:
                w.plot(x, y)
            w.resize(1366, 768)
            w.show()
            app.processEvents()
            w.grab()
            elapsed = time.perf_counter() - t0
            w.close()
            w.deleteLater()
            return elapsed * 1000

        def ours_open() -> tuple[float, SessionWindow]:
            t0 = time.perf_counter()
            w = SessionWindow(nurse, session_id)
            w.show()
            app.processEvents()
            w.chart.grab()
            return (time.perf_counter() - t0) * 1000, w

        bare_open()
        base_runs, our_runs = [], []
        window = None
        for _ in range(5):
            base_runs.append(bare_open())
            elapsed, window = ours_open()
            our_runs.append(elapsed)
            window.confirm_close = lambda: True  # type: ignore[method-assign]
            window.close()
        elapsed, window = ours_open()
        window.confirm_close = lambda: True  # type: ignore[method-assign]
        chart = window.chart
        appends: list[float] = []
        shown: list[float] = []
        for i in range(200):
            reading = VitalsReading(None, f"n{i}", session_id, START + timedelta(seconds=N + i),
                                    sbp_mmhg=130.0, dbp_mmhg=85.0, map_mmhg=100.0, hr_bpm=80.0,
                                    spo2_pct=97.0)
            t0 = time.perf_counter()
            chart.append_vitals(reading)
            t1 = time.perf_counter()
            chart.flush()  # what the coalescing timer does within 50 ms
            app.processEvents()
            appends.append((t1 - t0) * 1000)
            shown.append((time.perf_counter() - t0) * 1000)
        bare = pg.PlotWidget()  # keep a reference: a collected widget takes its curve with it
        bare.resize(1366, 400)
        bare.show()
        curve = bare.plot(x, ys[0])
        app.processEvents()
        bare_appends: list[float] = []
        for i in range(200):
            xx, yy = np.append(x, x[-1] + i + 1), np.append(ys[0], 100.0)
            t0 = time.perf_counter()
            curve.setData(xx, yy)
            app.processEvents()
            bare_appends.append((time.perf_counter() - t0) * 1000)
        bare.close()
        window.close()
        store.close()
    return [
        Figure("open 4 h session at 1 Hz (14,400 x 6) with chart", median(our_runs), "ms",
               median(base_runs), "< 300 ms", median(our_runs) < 300),
        Figure("append one reading to that chart: median", median(appends), "ms",
               median(bare_appends), "< 5 ms", median(appends) < 5),
        Figure("append one reading to that chart: p99", p99(appends), "ms",
               p99(bare_appends), "< 5 ms", p99(appends) < 5),
        Figure("append + redraw + paint (shown on screen): median", median(shown), "ms",
               median(bare_appends), "<= 3x bare setData+paint",
               median(shown) <= 3 * median(bare_appends)),
    ]


if __name__ == "__main__":
    from benchmarks.common import print_table

    print_table(run())
