"""The GUI's composition root. Until the nurse's screen lands this opens a window that
shows which database is open and what it holds, so `make run` proves the whole stack."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QMessageBox

from ketalog import __version__
from ketalog.services.settings import clinic_name
from ketalog.store.connection import open_store
from ketalog.store.errors import StoreError
from ketalog.store.store import Store


def run_gui(db_path: Path, smoke: bool = False) -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("ketalog")
    try:
        store = open_store(db_path)
    except StoreError as exc:
        QMessageBox.critical(None, "ketalog: cannot open the database", str(exc))
        return 2
    window = build_main_window(store, db_path)
    window.show()
    if smoke:
        QTimer.singleShot(200, app.quit)
    code = app.exec()
    store.close()
    return code


def build_main_window(store: Store, db_path: Path) -> QMainWindow:
    counts = store.table_counts()
    window = QMainWindow()
    window.setObjectName("mainWindow")
    window.setWindowTitle(f"ketalog {__version__} — {clinic_name(store)}")
    label = QLabel(
        f"<h2>{clinic_name(store)}</h2>"
        f"<p>Database: {db_path}</p>"
        f"<p>{counts.get('patients', 0)} patients, {counts.get('sessions', 0)} sessions, "
        f"{counts.get('vitals', 0)} vitals readings.</p>"
        "<p>The session screen arrives with the next release. Meanwhile use the "
        "<code>ketalog</code> command (see README).</p>")
    label.setObjectName("placeholderLabel")
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    window.setCentralWidget(label)
    window.resize(900, 560)
    window.statusBar().showMessage(f"Database: {db_path}")
    return window
