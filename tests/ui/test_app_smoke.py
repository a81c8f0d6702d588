"""The GUI composition root opens the database and shows the main window."""

from __future__ import annotations

from ketalog.store.connection import open_store
from ketalog.ui.app import build_main_window, run_gui


def test_gui_opens_on_a_new_database_and_quits(qapp, tmp_path):
    db = tmp_path / "new.sqlite"
    assert run_gui(db, smoke=True) == 0
    assert db.exists()


def test_main_window_names_the_database_and_counts(qtbot, tmp_path):
    db = tmp_path / "k.sqlite"
    store = open_store(db)
    window = build_main_window(store, db)
    qtbot.addWidget(window)
    assert window.objectName() == "mainWindow"
    assert str(db) in window.statusBar().currentMessage()
    assert "0 patients" in window.centralWidget().text()
    store.close()
