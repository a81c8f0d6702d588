"""The start-up integrity check runs off the GUI thread once the main window shows: a
damaged table page opens (the header and schema are sound) and the check turns on a
red banner saying what it found and what to do; a sound file shows none. An emptied file
opens the recovery dialog with its backups, never the first-run dialog."""

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
    assert [name.rsplit("_", 1)[0] for name in threads] == ["ketalog-task"]  # a worker
    assert controller.main.integrity_banner.isHidden()
    assert controller.integrity.timer.interval() == 24 * 3600 * 1000  # and daily
    _stop(controller)


def _stop(controller: GuiController) -> None:
    """Its timers must not outlive the test's database."""
    controller.integrity.timer.stop()
    controller.backup_timer.stop()
    controller._close_all()


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
        _stop(controller)
    finally:
        store.close()


def test_the_watch_reports_on_the_gui_thread(qtbot, store):
    seen: list[tuple[list[str], str]] = []
    watch = IntegrityWatch(lambda: store, lambda p: seen.append(
        (p, threading.current_thread().name)))
    watch.start()
    qtbot.waitUntil(lambda: bool(seen), timeout=10_000)
    assert seen == [([], threading.main_thread().name)]
    watch.timer.stop()


def test_an_emptied_database_opens_the_recovery_dialog_not_a_new_clinic(qtbot, staffed,
                                                                         tmp_path, clock):
    from ketalog.services.backups import run_backup
    from ketalog.ui.startup import RecoveryDialog, open_database

    store, ctx = staffed
    report, _ = run_backup(ctx["admin"], store.path, tmp_path / "backups", "manual")
    path = store.path
    store.close()
    path.write_bytes(b"")
    shown: list[RecoveryDialog] = []

    class Cancel(RecoveryDialog):
        def exec(self) -> int:
            qtbot.addWidget(self)
            shown.append(self)
            return 0

    assert open_database(path, clock, recovery_dialog=Cancel) is None
    assert "empty (0 bytes)" in shown[0].problem
    assert report.path.name in shown[0].backup_label.text()
    assert path.read_bytes() == b""
