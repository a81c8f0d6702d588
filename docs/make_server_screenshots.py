"""docs/screenshots/server-two-workstations.png: one patient's session open on two
workstations (two separate processes, a nurse and a provider, each with its own
connection) of one clinic server, both showing the monitor reading the feed stored.

A throwaway PostgreSQL (tests/pg_server.py) over loopback holds a demo clinic; the feed
stores readings through its own connection; then the two workstations open the running
session side by side on one X screen, one more reading arrives, and the screen is
captured. Run under Xvfb at 1920x1080:
`xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python docs/make_server_screenshots.py`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# the workstations' anchor logs go to a scratch data folder, not the user's own
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="ketalog-shots-data-")

from ketalog.domain.clock import FixedClock  # noqa: E402
from ketalog.interop.hl7_build import oru_message  # noqa: E402
from ketalog.services.demo import create_demo  # noqa: E402
from ketalog.services.device_feed import DeviceFeed  # noqa: E402
from ketalog.store.pg_connection import open_server_store  # noqa: E402
from tests import pg_server  # noqa: E402
from tests.pg_clinic import WORKSTATION_LOGIN, create_roles, migrate, new_database, seed  # noqa: E402

OUT = ROOT / "docs" / "screenshots" / "server-two-workstations.png"
NOW = datetime.now(UTC).replace(microsecond=0)

WORKSTATION = """
import sys, time
from datetime import datetime
from PySide6.QtWidgets import QApplication
from ketalog.domain.clock import FixedClock
from ketalog.services.auth import login
from ketalog.store.pg_connection import open_server_store
from ketalog.ui.session_window import SessionWindow

conninfo, user, password, session_id, x, title = sys.argv[1:7]
app = QApplication(sys.argv)
clock = FixedClock(datetime.fromisoformat(sys.argv[7]))
store = open_server_store(conninfo, clock)
ctx = login(store, clock, user, password)
window = SessionWindow(ctx, int(session_id))
window.confirm_close = lambda: True
window.setWindowTitle(window.windowTitle() + f" [{title}]")
window.setGeometry(int(x), 0, 958, 1040)
window.show()
print("shown", flush=True)
app.exec()
"""


def main() -> int:
    bindir = pg_server.find_bindir()
    if bindir is None:
        print("no PostgreSQL binaries: install Debian's postgresql", file=sys.stderr)
        return 1
    server = pg_server.start_binaries(bindir, tcp=True)
    children: list[subprocess.Popen[str]] = []
    try:
        create_roles(server)
        clinic = new_database(server)
        migrate(clinic)
        seed(clinic)
        conninfo = clinic.conninfo(WORKSTATION_LOGIN)
        clock = FixedClock(NOW)
        store = open_server_store(conninfo, clock)
        report = create_demo(store, clock)
        running = [s for s in _sessions(store) if s[1] == "in_progress"][0]
        session_id, chair = running[0], running[2].replace(" ", "").upper()
        feed = DeviceFeed(store, clock)
        start = NOW - timedelta(minutes=15)
        for n in range(90):
            values = {"sbp_mmhg": 126 + n // 8, "dbp_mmhg": 79 + n // 15, "hr_bpm": 74 + n % 5,
                      "spo2_pct": 97 + (n % 3 == 0), "rr_per_min": 14, "etco2_mmhg": 37}
            feed.receive(oru_message(f"SRV{n}", values, start + timedelta(seconds=10 * n),
                                     bed=chair, sending_app="IVUE_GW").encode())
        env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "xcb"}
        for user, x, title in (("nurse", 0, "workstation: Chair side"),
                               ("provider", 962, "workstation: provider's office")):
            child = subprocess.Popen(
                [sys.executable, "-c", WORKSTATION, conninfo, user, report.passwords[user],
                 str(session_id), str(x), title, NOW.isoformat()],
                env=env, stdout=subprocess.PIPE, text=True)
            children.append(child)
            assert child.stdout is not None
            child.stdout.readline()
        # the newest reading arrives while both are open
        feed.receive(oru_message("SRV-LAST", {"sbp_mmhg": 138, "dbp_mmhg": 84, "hr_bpm": 79,
                                              "spo2_pct": 96, "rr_per_min": 15,
                                              "etco2_mmhg": 38}, NOW,
                                 bed=chair, sending_app="IVUE_GW").encode())
        time.sleep(4)
        OUT.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["import", "-window", "root", str(OUT)], check=True)
        # no window manager draws title bars under Xvfb: name each workstation below it
        subprocess.run(["convert", str(OUT), "-font", "DejaVu-Sans", "-fill", "white", "-pointsize", "22",
                        "-annotate", "+12+1068", f"Workstation 1: nurse, at the chair "
                        f"({clinic.name} on the clinic server)",
                        "-annotate", "+974+1068", "Workstation 2: provider, in the office "
                        "(same server, own connection)", str(OUT)], check=True)
        print(f"wrote {OUT}")
        store.close()
        return 0
    finally:
        for child in children:
            child.terminate()
            child.wait(10)
        server.stop()


def _sessions(store: object) -> list[tuple[int, str, str]]:
    from ketalog.store import sessions as sessions_store

    return [(s.session_id, s.session.status.value, s.session.chair)
            for s in sessions_store.listing(store)]  # type: ignore[arg-type]


if __name__ == "__main__":
    raise SystemExit(main())
