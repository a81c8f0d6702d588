"""`ketalog demo`: a clinic of 20+ patients and 150+ sessions, target under 30 s. The
baseline is a raw executemany of the same number of vitals rows into a bare table."""

from __future__ import annotations

import sqlite3
import tempfile
import time
from pathlib import Path

from benchmarks.common import Figure
from ketalog.domain.clock import SystemClock
from ketalog.services.demo import create_demo
from ketalog.store.connection import open_store


def run() -> list[Figure]:
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp) / "demo.sqlite", SystemClock())
        t0 = time.perf_counter()
        report = create_demo(store, SystemClock(), seed=1)
        ours = time.perf_counter() - t0
        store.close()
        conn = sqlite3.connect(Path(tmp) / "raw.sqlite")
        conn.execute("CREATE TABLE v (session_id, at, sbp, dbp, hr, spo2, rr)")
        rows = [(i % 150, f"2026-01-01T00:{i % 60:02d}:00.000Z", 120.0, 80.0, 70.0, 98.0, 14.0)
                for i in range(report.vitals)]
        t0 = time.perf_counter()
        conn.executemany("INSERT INTO v VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        conn.commit()
        base = time.perf_counter() - t0
        conn.close()
    return [Figure(f"demo clinic ({report.sessions} sessions, {report.vitals} vitals)", ours,
                   "s", base, "< 30 s", ours < 30)]


if __name__ == "__main__":
    from benchmarks.common import print_table

    print_table(run())
