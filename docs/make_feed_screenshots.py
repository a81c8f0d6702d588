"""Screenshots of the monitor feed (docs/screenshots/feed-*.png): a demo session fed by a
simulated monitor over a real socket, the quarantine dialog, and the feed dialog's
Monitors tab after some published vendor messages. Same fixed clock as
make_screenshots.py; run under Xvfb for real fonts:
`QT_QPA_PLATFORM=xcb xvfb-run -a .venv/bin/python docs/make_feed_screenshots.py`."""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from ketalog.domain.clock import FixedClock  # noqa: E402
from ketalog.interop.hl7_build import oru_message  # noqa: E402
from ketalog.services.auth import login  # noqa: E402
from ketalog.services.demo import create_demo  # noqa: E402
from ketalog.services.device_listener import Hl7Listener  # noqa: E402
from ketalog.services.mllp_client import MllpClient  # noqa: E402
from ketalog.store.connection import open_store  # noqa: E402
from ketalog.ui.device_feed_dialog import FeedSettingsDialog  # noqa: E402
from ketalog.ui.feed_runner import FeedRunner  # noqa: E402
from ketalog.ui.quarantine_dialog import QuarantineDialog  # noqa: E402
from ketalog.ui.session_window import SessionWindow  # noqa: E402

NOW = datetime(2026, 11, 24, 14, 10, tzinfo=UTC)
OUT = Path(__file__).resolve().parent / "screenshots"
VENDORS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "hl7" / "vendors"


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as tmp:
        clock = FixedClock(NOW)
        store = open_store(Path(tmp) / "demo.sqlite", clock)
        report = create_demo(store, clock)
        nurse = login(store, clock, "nurse", report.passwords["nurse"])
        running = store.rows("sessions", status="in_progress")[0]
        chair = str(running["chair"]).replace(" ", "").upper()
        listener = Hl7Listener(store.path, "127.0.0.1", 0, clock=clock)
        listener.start()
        with MllpClient(*listener.address) as monitor:
            start = NOW - timedelta(minutes=20)
            for n in range(120):  # every 10 s for 20 minutes, drifting up
                values = {"sbp_mmhg": 128 + n // 6, "dbp_mmhg": 80 + n // 12,
                          "hr_bpm": 72 + (n % 9), "spo2_pct": 97 + (n % 3 == 0),
                          "rr_per_min": 14 + (n % 4 == 0), "etco2_mmhg": 36 + (n % 5 == 0)}
                monitor.send(oru_message(f"SHOT{n}", values, start + timedelta(seconds=10 * n),
                                         bed=chair, sending_app="IVUE_GW"))
            monitor.send(oru_message("SHOT-X", {"hr_bpm": 72}, NOW, mrn="K000000",
                                     sending_app="IVUE_GW"))
            monitor.send(oru_message("SHOT-Y", {"hr_bpm": 410}, NOW, bed=chair,
                                     sending_app="IVUE_GW"))
            for name in ("ge_vsp_spo2", "mindray_vs8_demo_mode", "comen_nc5_oru_nibp",
                         "ihe_pcd01_bp_training"):
                monitor.send((VENDORS / f"{name}.hl7").read_bytes())
        listener.stop()
        window = SessionWindow(nurse, int(running["id"]))  # type: ignore[call-overload]
        window.confirm_close = lambda: True
        window.resize(1366, 768)
        window.show()
        for _ in range(5):
            app.processEvents()
        window.chart.flush()
        app.processEvents()
        window.grab().save(str(OUT / "feed-session.png"))
        dialog = QuarantineDialog(nurse)
        dialog.resize(1100, 520)
        dialog.show()
        for _ in range(3):
            app.processEvents()
        dialog.grab().save(str(OUT / "feed-quarantine.png"))
        admin = login(store, clock, "admin", report.passwords["admin"])
        feed = FeedSettingsDialog(admin, store.path, FeedRunner())
        feed.resize(900, 420)
        feed.tabs.setCurrentIndex(1)
        feed.show()
        for _ in range(3):
            app.processEvents()
        feed.grab().save(str(OUT / "feed-monitors.png"))
        print(f"wrote {OUT / 'feed-session.png'}, {OUT / 'feed-quarantine.png'} and "
              f"{OUT / 'feed-monitors.png'}")
        window.close()
        dialog.close()
        feed.close()
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
