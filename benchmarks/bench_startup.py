"""Start-up: a fresh process showing the logged-in main window, against a fresh process
showing a bare PySide6 + pyqtgraph window, measured alternately in the same run."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import Figure, median

ROOT = Path(__file__).resolve().parent.parent
RUNS = 7

BARE = """
import time; t0 = time.perf_counter()
from PySide6.QtWidgets import QApplication
import pyqtgraph as pg
app = QApplication([])
w = pg.PlotWidget(); w.resize(900, 600); w.show()
app.processEvents()
print(time.perf_counter() - t0)
"""

KETALOG = """
import time; t0 = time.perf_counter()
import sys
from pathlib import Path
from PySide6.QtWidgets import QApplication
from ketalog.domain.clock import SystemClock
from ketalog.services.auth import login
from ketalog.store.connection import open_store
from ketalog.ui.main_window import MainWindow
app = QApplication([])
db = Path(sys.argv[1])
store = open_store(db, SystemClock())
ctx = login(store, SystemClock(), "nurse", "nurse-pass-1")
w = MainWindow(ctx, db); w.resize(1200, 700); w.show()
app.processEvents()
print(time.perf_counter() - t0)
"""


def _make_db(folder: Path) -> Path:
    from ketalog.domain.clock import SystemClock
    from ketalog.domain.entities import Role
    from ketalog.services.auth import add_user, bootstrap_admin
    from ketalog.services.auth import login as do_login
    from ketalog.store.connection import open_store

    db = folder / "startup.sqlite"
    store = open_store(db, SystemClock())
    bootstrap_admin(store, SystemClock(), "admin", "admin-pass-1", clinic_name="Bench")
    add_user(do_login(store, SystemClock(), "admin", "admin-pass-1"), "nurse", [Role.NURSE],
             "nurse-pass-1")
    store.close()
    return db


def _time(code: str, *args: str) -> float:
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    out = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1]) * 1000


def run() -> list[Figure]:
    with tempfile.TemporaryDirectory() as tmp:
        db = _make_db(Path(tmp))
        _time(BARE), _time(KETALOG, str(db))  # warm the file cache
        bare, ours = [], []
        for _ in range(RUNS):
            bare.append(_time(BARE))
            ours.append(_time(KETALOG, str(db)))
    return [Figure("start-up to logged-in main window (vs bare Qt+pyqtgraph window)",
                   median(ours), "ms", median(bare), "<= 1.3x",
                   median(ours) <= 1.3 * median(bare))]


if __name__ == "__main__":
    from benchmarks.common import print_table

    print_table(run())
