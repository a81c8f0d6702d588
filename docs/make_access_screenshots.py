"""Screenshots of access control (docs/screenshots/): the login with its emergency
button, the break-glass dialog, the red banner, Admin > Users and Admin > Audit log with
an emergency access awaiting review. Same fixed clock as make_screenshots.py; run
under Xvfb for real fonts:
`QT_QPA_PLATFORM=xcb xvfb-run -a .venv/bin/python docs/make_access_screenshots.py`."""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from ketalog.domain.clock import FixedClock  # noqa: E402
from ketalog.services.auth import login  # noqa: E402
from ketalog.services.demo import create_demo  # noqa: E402
from ketalog.services.emergency import end_emergency, start_emergency  # noqa: E402
from ketalog.services.errors import ServiceError  # noqa: E402
from ketalog.services.sessions import record_vitals  # noqa: E402
from ketalog.store.connection import open_store  # noqa: E402
from ketalog.ui.audit_dialog import AuditDialog  # noqa: E402
from ketalog.ui.emergency_dialog import EmergencyDialog  # noqa: E402
from ketalog.ui.main_window import MainWindow  # noqa: E402
from ketalog.ui.users_dialog import UsersDialog  # noqa: E402

NOW = datetime(2026, 11, 24, 14, 10, tzinfo=UTC)
OUT = Path(__file__).resolve().parent / "screenshots"
REASON = ("Locked out while signing; infusion running in chair 2, vitals due, "
          "no admin on site until 17:00")


def _save(widget: QWidget, name: str, app: QApplication) -> None:
    widget.show()
    for _ in range(3):
        app.processEvents()
    widget.grab().save(str(OUT / name))
    print(f"wrote {OUT / name}")


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "demo.sqlite"
        clock = FixedClock(NOW)
        store = open_store(db, clock)
        report = create_demo(store, clock)
        for _ in range(5):  # the provider mistypes at the signature until locked
            clock.advance(seconds=20)
            try:
                login(store, clock, "provider", "provider-pass?")
            except ServiceError:
                pass
        box = EmergencyDialog(store, clock, "provider")
        box.password.setText("secret-password")
        box.reason.setPlainText(REASON)
        _save(box, "emergency-dialog.png", app)
        clock.advance(minutes=1)
        grant = start_emergency(store, clock, "provider", report.passwords["provider"], REASON)
        running = store.rows("sessions", status="in_progress")
        for n, row in enumerate(running[:1]):
            clock.advance(minutes=4)
            record_vitals(grant, int(row["id"]),  # type: ignore[call-overload]
                          {"sbp_mmhg": 142 - n, "dbp_mmhg": 86, "hr_bpm": 88, "spo2_pct": 97})
        banner = MainWindow(grant, db)
        banner.resize(1366, 768)
        _save(banner, "emergency-banner.png", app)
        banner.close()
        clock.advance(minutes=11)
        end_emergency(grant, "logged out")
        clock.advance(minutes=35)
        admin = login(store, clock, "admin", report.passwords["admin"])
        users = UsersDialog(admin)
        users.select("nurse")  # the locked provider shows in red
        users.resize(1000, 420)
        _save(users, "users.png", app)
        audit = AuditDialog(admin)
        audit.resize(1366, 768)
        _save(audit, "audit-log.png", app)
        clock.advance(minutes=1)
        users.close()
        audit.close()
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
