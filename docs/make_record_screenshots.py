"""Screenshots of correcting the record: a dose event struck as entered in error on the
session screen and on the PDF page (pdftoppm), and the Complete dialog with a failed
discharge-readiness check. Run by `make screenshots`; the clock is fixed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from ketalog.domain.clock import FixedClock  # noqa: E402
from ketalog.domain.entities import Bag, DoseKind, Role  # noqa: E402
from ketalog.services import sessions as svc  # noqa: E402
from ketalog.services.auth import add_user, bootstrap_admin, login  # noqa: E402
from ketalog.services.entered_in_error import EntryKind, strike_entry  # noqa: E402
from ketalog.services.exports import export_session_pdf  # noqa: E402
from ketalog.services.patients import PatientInput, create_patient  # noqa: E402
from ketalog.services.protocols import list_protocols, seed_protocols  # noqa: E402
from ketalog.store.connection import open_store  # noqa: E402
from ketalog.store.store import SYSTEM  # noqa: E402
from ketalog.ui.complete_dialog import CompleteDialog  # noqa: E402
from ketalog.ui.session_window import SessionWindow  # noqa: E402

NOW = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
OUT = Path(__file__).resolve().parent / "screenshots"


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
        clock = FixedClock(NOW)
        store = open_store(Path(tmp) / "record.sqlite", clock)
        bootstrap_admin(store, clock, "admin", "admin-pass-1", "Ada Admin", "Harbour Clinic")
        admin = login(store, clock, "admin", "admin-pass-1")
        add_user(admin, "nurse", [Role.NURSE], "nurse-pass-1", "Nina Nurse", "RN")
        seed_protocols(store, SYSTEM)
        nurse = login(store, clock, "nurse", "nurse-pass-1")
        patient = create_patient(nurse, PatientInput(
            "K4821", "Lindqvist", "Åsa", date(1971, 4, 2), "female", allergies="penicillin",
            indication="neuropathic pain"))
        protocol = next(p for p in list_protocols(nurse) if p.indication == "neuropathic pain")
        session = svc.start_session(nurse, svc.SessionStart(
            patient.id, 82.0, Bag("ketamine", 1.0, 500, "KX-2207", date(2027, 6, 30)),
            protocol_id=protocol.id, chair="Chair 2", series_number=2, series_total=6))
        sid = session.id
        svc.record_vitals(nurse, sid, {"sbp_mmhg": 126, "dbp_mmhg": 80, "hr_bpm": 74,
                                       "spo2_pct": 98, "rr_per_min": 14})
        svc.record_dose(nurse, sid, DoseKind.START, rate_mg_per_h=41.0, acknowledge=True)
        clock.advance(minutes=15)
        wrong = svc.record_dose(nurse, sid, DoseKind.BOLUS, bolus_mg=20.0, acknowledge=True,
                                reason="pain 8/10")
        clock.advance(minutes=2)
        strike_entry(nurse, EntryKind.DOSE, wrong.id, "bolus was drawn for chair 3")
        clock.advance(minutes=28)
        svc.record_vitals(nurse, sid, {"sbp_mmhg": 138, "dbp_mmhg": 86, "hr_bpm": 82,
                                       "spo2_pct": 97, "rr_per_min": 15})
        window = SessionWindow(nurse, sid)
        window.resize(1366, 768)
        window.confirm_close = lambda: True
        _save(window, "dose-struck.png", app)
        window.close()
        pdf = export_session_pdf(nurse, sid, Path(tmp) / "struck.pdf")
        if shutil.which("pdftoppm") is None:
            print("pdftoppm not found: PDF page image not refreshed")
        else:
            subprocess.run(["pdftoppm", "-png", "-r", "100", "-f", "1", "-l", "1",
                            "-singlefile", str(pdf), str(OUT / "dose-struck-pdf")], check=True)
            print(f"wrote {OUT / 'dose-struck-pdf.png'}")
        # Complete 20 min after the stop, Aldrete 9, no escort yet: two checks fail.
        clock.advance(minutes=60)
        svc.record_dose(nurse, sid, DoseKind.STOP)
        svc.add_side_effect(nurse, sid, "dizziness", "mild", action="sitting up slowly")
        clock.advance(minutes=15)
        svc.add_score(nurse, sid, "aldrete", "post", items={
            "activity": 2, "respiration": 2, "circulation": 1, "consciousness": 2, "spo2": 2})
        clock.advance(minutes=5)
        dialog = CompleteDialog(nurse, sid)
        dialog.reasons["observation"].setText("provider (Dr. Provider) reviewed, cleared")
        _save(dialog, "complete-readiness.png", app)
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
