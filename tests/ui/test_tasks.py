"""The GUI's one way to run background work: results, failures and progress arrive on
the GUI thread; nothing else in ketalog/ui starts threads, polls or spins event loops."""

from __future__ import annotations

import re
import threading
from pathlib import Path

from ketalog.ui.tasks import TaskRunner, tasks_of

UI = Path(__file__).resolve().parents[2] / "ketalog" / "ui"
OTHER_WAYS = re.compile(r"ThreadPoolExecutor|threading\.Thread|processEvents|\.join\(0")


def test_result_and_progress_arrive_on_the_gui_thread(qtbot):
    runner = TaskRunner()
    seen: list[tuple[str, object]] = []
    report = runner.progress(lambda phase, done, total: seen.append(
        (threading.current_thread().name, (phase, done, total))))

    def work() -> str:
        report("copy", 1, 2)
        return threading.current_thread().name

    runner.run(work, lambda name: seen.append((threading.current_thread().name, name)))
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=5000)
    main = threading.main_thread().name
    assert seen[0] == (main, ("copy", 1, 2))
    assert seen[1][0] == main and str(seen[1][1]).startswith("ketalog-task")
    assert runner.running == 0
    runner.shutdown()


def test_a_failure_reaches_the_failed_callback_not_done(qtbot):
    runner = TaskRunner()
    done: list[object] = []
    failed: list[BaseException] = []

    def boom() -> None:
        raise OSError("No space left on device")

    runner.run(boom, done.append, failed.append)
    qtbot.waitUntil(lambda: bool(failed), timeout=5000)
    assert done == [] and str(failed[0]) == "No space left on device"
    runner.shutdown()


def test_windows_find_the_runner_they_were_handed(qtbot):
    from PySide6.QtWidgets import QDialog, QMainWindow

    window = QMainWindow()
    qtbot.addWidget(window)
    window.tasks = TaskRunner(window)  # type: ignore[attr-defined]
    dialog = QDialog(window)
    assert tasks_of(dialog) is window.tasks
    alone = QDialog()
    qtbot.addWidget(alone)
    own = tasks_of(alone)
    assert tasks_of(alone) is own and own is not window.tasks


def test_no_other_background_machinery_in_the_ui():
    found = [f"{p.name}: {m.group(0)}" for p in sorted(UI.glob("*.py")) if p.name != "tasks.py"
             for m in OTHER_WAYS.finditer(p.read_text(encoding="utf-8"))]
    assert found == []
    assert OTHER_WAYS.search("threading.Thread(target=f).start(); app.processEvents()")


def test_an_outcome_for_a_closed_window_is_dropped(qtbot):
    """A PDF still rendering when its window is closed and deleted: nothing calls into
    the dead widgets (pytest-qt fails the test on an exception in a slot)."""
    from PySide6.QtWidgets import QWidget

    runner = TaskRunner()
    window = QWidget()
    release = threading.Event()
    done: list[object] = []
    runner.run(lambda: release.wait(5), done.append, done.append, owner=window)
    window.deleteLater()
    qtbot.wait(20)  # the deletion happens
    release.set()
    qtbot.waitUntil(lambda: runner.running == 0, timeout=5000)
    assert done == []
    runner.shutdown()


def test_a_backup_finishes_and_is_audited_after_a_logout(qtbot, staffed, clock, monkeypatch):
    """The copy runs on; the admin logs out meanwhile (the main window and its progress
    dialog are deleted); the backup is still checked, rotated and audited."""
    from ketalog.services import database as database_service
    from ketalog.services.backups import list_backups
    from ketalog.store import backup as store_backup
    from ketalog.ui import app as app_module
    from ketalog.ui.app import GuiController

    store, ctx = staffed
    monkeypatch.setattr(app_module.QMessageBox, "warning",
                        lambda *a, **k: (_ for _ in ()).throw(AssertionError(a[2])))
    controller = GuiController(store, clock, store.path)
    controller.open_main(ctx["admin"])
    release = threading.Event()
    real = store_backup.backup_to

    def held_copy(source, target, progress=None, pages_per_step=4096, phases=None):  # noqa: ANN001, ANN202
        assert release.wait(10)
        return real(source, target, progress, pages_per_step, phases)

    monkeypatch.setattr(database_service, "backup_to", held_copy)
    ended: list[bool] = []
    assert controller.backup("manual", then=ended.append)
    controller._close_all()  # the logout's part that deletes the windows
    controller.ctx = None
    qtbot.wait(20)
    release.set()
    qtbot.waitUntil(lambda: bool(ended), timeout=30_000)
    assert ended == [True]
    assert len(list_backups(controller.backup_folder(), store.path)) == 1
    assert store.audit_rows()[-1]["action"] == "backup"
    controller.tasks.shutdown()



def test_an_outcome_emitted_on_the_gui_thread_waits_behind_queued_progress(qtbot):
    """A quick task can finish before `run` adds its done-callback; concurrent.futures
    then calls the callback at once on the GUI thread, which emits the outcome there.
    It must still be queued behind the progress the work reported from its thread, not
    delivered directly ahead of it (progress after the end)."""
    from concurrent.futures import Future

    runner = TaskRunner()
    seen: list[object] = []
    report = runner.progress(lambda phase, done, total: seen.append(phase))
    reporter = threading.Thread(target=report, args=("copy", 1, 1))
    reporter.start()
    reporter.join()  # the progress is queued for the GUI thread, not yet delivered
    finished: Future[str] = Future()
    finished.set_result("done")
    runner.running += 1
    runner._finished.emit((finished, seen.append, None, None))  # as add_done_callback does
    assert seen == []
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=5000)
    assert seen == ["copy", "done"]
    runner.shutdown()
