"""Screenshots of the bedside screens at the screen size this runs on (1366x768 and
1920x1080 from `make screenshots`): the main window after login, the session screen
mid-infusion with an alarm banner up and the chart following, the Scores tab, and the
allergy warning. Written to docs/screenshots/bedside/<name>-<W>x<H>.png.

The whole screen is grabbed (not one widget), so what is cut or hidden on a small screen
shows. Under Xvfb there is no window manager: windows are placed at the screen's
available size, as a maximised window would be."""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from ketalog.domain.clock import FixedClock  # noqa: E402
from ketalog.services import sessions as svc  # noqa: E402
from ketalog.services.allergies import add_allergy  # noqa: E402
from ketalog.services.auth import login  # noqa: E402
from ketalog.services.demo import create_demo  # noqa: E402
from ketalog.store.connection import open_store  # noqa: E402
from ketalog.ui.acknowledge_dialog import AcknowledgeDialog  # noqa: E402
from ketalog.ui.main_window import MainWindow  # noqa: E402
from ketalog.ui.session_window import SessionWindow  # noqa: E402

NOW = datetime(2026, 11, 24, 14, 10, tzinfo=UTC)  # as make_screenshots.py
OUT = Path(__file__).resolve().parent / "screenshots" / "bedside"


class Screen:
    def __init__(self, app: QApplication) -> None:
        self.app = app
        screen = app.primaryScreen()
        self.area = screen.availableGeometry()
        self.size = f"{screen.geometry().width()}x{screen.geometry().height()}"

    def settle(self, rounds: int = 6) -> None:
        for _ in range(rounds):
            self.app.processEvents()

    def fill(self, window: QWidget) -> None:
        """As a maximised window: the whole available screen."""
        window.setGeometry(self.area)
        window.show()
        window.raise_()
        window.activateWindow()
        self.settle()

    def grab(self, name: str) -> Path:
        self.settle()
        path = OUT / f"{name}-{self.size}.png"
        self.app.primaryScreen().grabWindow(0).save(str(path))
        print(f"wrote {path}")
        return path


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
            QSettings.setPath(fmt, QSettings.Scope.UserScope, tmp)  # no saved geometry
        screen = Screen(app)
        db = Path(tmp) / "demo.sqlite"
        clock = FixedClock(NOW)
        store = open_store(db, clock)
        report = create_demo(store, clock)
        nurse = login(store, clock, "nurse", report.passwords["nurse"])
        sid = report.in_progress_session_id
        assert sid is not None, "the demo clinic has a session in progress"
        session = svc.get_session(store, sid)
        # the reported case: the patient's allergy list says morphine (itching)
        store_patient = store.get("patients", session.patient_id)
        assert store_patient is not None
        if "morphine" not in str(store_patient["allergies"]):
            add_allergy(nurse, session.patient_id, "morphine", "itching", "moderate")
        # a low SpO2 from the monitor a minute ago: the banner is up
        clock.advance(minutes=1)
        svc.record_vitals(nurse, sid, {"spo2_pct": 86, "hr_bpm": 104, "rr_per_min": 9},
                          source="device:MON-CH2")

        main_window = MainWindow(nurse, db)
        main_window.refresh_board()
        screen.fill(main_window)
        screen.grab("main-window")

        window = SessionWindow(nurse, sid)
        window.alarm_banner.beep = lambda: None
        window.confirm_close = lambda: True  # type: ignore[method-assign]
        screen.fill(window)
        window.alarm_banner.refresh(may_sound=False)
        window.chart.flush()
        screen.grab("session-alarm")

        window.entries.setCurrentIndex(2)  # Scores
        screen.grab("session-scores")

        window.entries.setCurrentIndex(0)  # Medications: morphine 2 mg typed
        window.entries.drug.setEditText("morphine")
        window.entries.dose.setText("2")
        checked = svc.check_adjunct(nurse, sid, "morphine", 2, "mg", "IV")
        dialog = AcknowledgeDialog(checked.warnings, "morphine 2 mg", window)
        dialog.reason.setText("itching only; Dr Patel aware, premedicated")
        dialog.show()
        geometry = dialog.frameGeometry()
        geometry.moveCenter(window.frameGeometry().center())
        dialog.move(geometry.topLeft())
        screen.grab("allergy-warning")
        dialog.close()

        window.close()
        main_window.close()
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
