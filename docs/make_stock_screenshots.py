"""Screenshots of the controlled-substance record (docs/screenshots/stock-*.png): the
Controlled substances board of the demo clinic, the witnessed waste step at Complete,
and page 1 of the reconciliation PDF (pdftoppm). Same fixed clock as
make_screenshots.py; run under Xvfb for real fonts:
`QT_QPA_PLATFORM=xcb xvfb-run -a .venv/bin/python docs/make_stock_screenshots.py`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from ketalog.domain.clock import FixedClock  # noqa: E402
from ketalog.domain.stock import DiscrepancyKind  # noqa: E402
from ketalog.services import stock  # noqa: E402
from ketalog.services.auth import login  # noqa: E402
from ketalog.services.demo import create_demo  # noqa: E402
from ketalog.services.stock_export import export_stock  # noqa: E402
from ketalog.store.connection import open_store  # noqa: E402
from ketalog.ui.stock_board import StockBoard  # noqa: E402
from ketalog.ui.stock_session_dialogs import WasteDialog  # noqa: E402

NOW = datetime(2026, 11, 24, 14, 10, tzinfo=UTC)
OUT = Path(__file__).resolve().parent / "screenshots"


def settle(app: QApplication) -> None:
    for _ in range(5):
        app.processEvents()


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as tmp:
        clock = FixedClock(NOW)
        store = open_store(Path(tmp) / "demo.sqlite", clock)
        report = create_demo(store, clock)
        provider = login(store, clock, "provider", report.passwords["provider"])
        nurse = login(store, clock, "nurse", report.passwords["nurse"])
        board = StockBoard(provider)
        board.resize(1366, 768)
        board.show()
        settle(app)
        board.grab().save(str(OUT / "stock-board.png"))
        open_session = next(d.session_id for d in stock.board(provider).open_discrepancies
                            if d.kind is DiscrepancyKind.NO_WASTE)
        plan = stock.waste_plan(nurse, open_session)
        assert plan is not None
        dialog = WasteDialog(nurse, plan)
        dialog.witness.setCurrentText("nurse2")
        dialog.witness_password.setText("********")
        dialog.show()
        settle(app)
        dialog.grab().save(str(OUT / "stock-waste-witness.png"))
        day = NOW.astimezone().date()
        pdf = Path(tmp) / "stock.pdf"
        export_stock(provider, day - timedelta(days=13), day, pdf)
        if shutil.which("pdftoppm"):
            subprocess.run(["pdftoppm", "-r", "80", "-f", "1", "-l", "1", "-png",
                            "-singlefile", str(pdf), str(OUT / "stock-reconciliation-p1")],
                           check=True)
        print(f"wrote {OUT}/stock-board.png, stock-waste-witness.png, "
              "stock-reconciliation-p1.png")
        dialog.close()
        board.close()
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
