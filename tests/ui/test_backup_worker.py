"""The GUI's backup copies on a worker thread with its own connection: the windows keep
painting and a nurse can keep recording while a ten-year file is copied and checked."""

from __future__ import annotations

import threading
from datetime import date

from ketalog.services import database as database_service
from ketalog.services.backups import list_backups
from ketalog.services.patients import PatientInput, create_patient
from ketalog.store import backup as store_backup
from ketalog.ui import app as app_module
from ketalog.ui.app import GuiController
from tests.ui.conftest import backed_up


def test_backup_copies_off_the_gui_thread_while_the_gui_writes(qtbot, staffed, clock,
                                                               monkeypatch):
    store, ctx = staffed
    monkeypatch.setattr(app_module.QMessageBox, "warning",
                        lambda *a, **k: (_ for _ in ()).throw(AssertionError(a[2])))
    controller = GuiController(store, clock, store.path)
    controller.open_main(ctx["admin"])
    qtbot.addWidget(controller.main)
    real = store_backup.backup_to
    seen: dict[str, object] = {}
    wrote = threading.Event()

    def slow_copy(source, target, progress=None, pages_per_step=4096, phases=None):  # noqa: ANN001, ANN202
        seen["thread"] = threading.current_thread().name.rsplit("_", 1)[0]
        seen["own connection"] = source.conn is not store.conn
        assert wrote.wait(10), "the GUI thread was blocked during the copy"
        return real(source, target, progress, pages_per_step, phases)

    monkeypatch.setattr(database_service, "backup_to", slow_copy)
    # the GUI thread's event loop runs during the copy: a nurse records something
    qtbot.wait(1)
    from PySide6.QtCore import QTimer

    QTimer.singleShot(50, lambda: (create_patient(ctx["nurse"], PatientInput(
        "W1", "During", "Backup", date(1970, 1, 1))), wrote.set()))
    assert backed_up(qtbot, controller)
    assert seen == {"thread": "ketalog-task", "own connection": True}
    assert len(list_backups(controller.backup_folder(), store.path)) == 1
    assert store.audit_rows()[-1]["action"] == "backup"  # audited on the GUI's connection
    controller._close_all()
