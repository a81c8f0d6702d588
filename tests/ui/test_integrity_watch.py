"""The start-up integrity check runs off the GUI thread once the main window shows: a
damaged table page opens (the header and schema are sound) and the check turns on a
red banner saying what it found and what to do; a sound file shows none."""

from __future__ import annotations

import shutil
import sqlite3
import threading

from ketalog.store.connection import open_store
from ketalog.ui.app import GuiController
from ketalog.ui.integrity_watch import IntegrityWatch, run_check

PAGE = 4096


def _damage(path, table: str) -> None:
    conn = sqlite3.connect(str(path))
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", [table]).fetchone()[0]
    conn.close()
    with path.open("r+b") as fh:
        fh.seek((root - 1) * PAGE)
        fh.write(bytes((i * 37) % 251 for i in range(PAGE)))


def test_a_sound_file_shows_no_banner_and_the_check_ran_on_another_thread(qtbot, staffed,
                                                                           clock, monkeypatch):
    store, ctx = staffed
    threads: list[str] = []
    import ketalog.ui.integrity_watch as module

    real = module.run_check
    monkeypatch.setattr(module, "run_check",
                        lambda s: threads.append(threading.current_thread().name) or real(s))
    controller = GuiController(store, clock, store.path)
    controller.open_main(ctx["nurse"])
    qtbot.addWidget(controller.main)
    qtbot.waitUntil(lambda: bool(threads) and not controller.integrity.running,
                    timeout=10_000)
    assert threads == ["ketalog-integrity"]
    assert controller.main.integrity_banner.isHidden()
    assert controller.integrity.timer.interval() == 24 * 3600 * 1000  # and daily


def test_a_damaged_page_turns_on_the_banner(qtbot, tmp_path, staffed_template, clock):
    from ketalog.services.auth import login
    from tests.conftest import PASSWORDS

    path = tmp_path / "damaged.sqlite"
    shutil.copy(staffed_template, path)
    _damage(path, "protocols")
    store = open_store(path, clock, quick_check=False)  # as the GUI opens it
    try:
        assert run_check(store)  # quick_check sees the damage
        controller = GuiController(store, clock, path)
        controller.open_main(login(store, clock, "nurse", PASSWORDS["nurse"]))
        qtbot.addWidget(controller.main)
        qtbot.waitUntil(lambda: controller.main.integrity_banner.isVisible(), timeout=10_000)
        text = controller.main.integrity_banner.text()
        assert "DATABASE DAMAGE FOUND" in text and "restore the newest verified backup" in text
    finally:
        store.close()


def test_the_watch_reports_on_the_gui_thread(qtbot, store):
    seen: list[tuple[list[str], str]] = []
    watch = IntegrityWatch(lambda: store, lambda p: seen.append(
        (p, threading.current_thread().name)))
    watch.start()
    qtbot.waitUntil(lambda: bool(seen), timeout=10_000)
    assert seen == [([], threading.main_thread().name)]
