"""The GUI side of trust: the passphrase prompt before login, the recovery dialog that
restores the newest verified backup of a damaged file, and a vitals entry that stays on
screen when the disk is full and records once space is freed."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from ketalog.domain.entities import Bag
from ketalog.services import sessions as svc
from ketalog.services.backups import run_backup
from ketalog.services.patients import PatientInput, create_patient
from ketalog.store.connection import open_store
from ketalog.store.errors import StoreError
from ketalog.store.verify import verify_store
from ketalog.ui.startup import PassphraseDialog, RecoveryDialog, open_database
from ketalog.ui.vitals_entry import VitalsEntry
from tests.ui.conftest import backed_up

ADMIN_PW = "admin-pass-1"  # tests/conftest.py PASSWORDS
KEY = "clinic passphrase 2026"


def start_session(ctx) -> int:  # noqa: ANN001
    patient = create_patient(ctx, PatientInput(
        mrn="MRN-9", family_name="Roe", given_name="Ann", birth_date=date(1975, 3, 2),
        sex="female", indication="CRPS"))
    return svc.start_session(ctx, svc.SessionStart(
        patient_id=patient.id, weight_kg=60.0, bag=Bag("ketamine", 1.0, 100.0))).id


def test_vitals_entry_stays_on_screen_when_the_disk_is_full(qtbot, staffed):
    store, ctx = staffed
    sid = start_session(ctx["nurse"])
    entry = VitalsEntry(ctx["nurse"], sid)
    qtbot.addWidget(entry)
    conn = store.conn
    conn.execute(f"PRAGMA max_page_count = {conn.execute('PRAGMA page_count').fetchone()[0]}")
    with pytest.raises(StoreError):  # fill the last free page
        for _ in range(20000):
            svc.record_vitals(ctx["nurse"], sid, {"sbp_mmhg": 120, "dbp_mmhg": 80})
    before = store.count("vitals")
    typed = {"sbp_mmhg": "131", "dbp_mmhg": "84", "hr_bpm": "77", "spo2_pct": "97"}
    for field, text in typed.items():
        entry.inputs[field].setText(text)

    entry.record()
    assert not entry.error.isHidden() and "disk is full" in entry.error.text()
    assert {f: entry.inputs[f].text() for f in typed} == typed  # still there to retry
    assert store.count("vitals") == before

    conn.execute("PRAGMA max_page_count = 1073741823")  # space freed
    recorded: list[object] = []
    entry.recorded.connect(recorded.append)
    entry.record()
    assert entry.error.isHidden() and len(recorded) == 1
    assert store.count("vitals") == before + 1 and entry.inputs["sbp_mmhg"].text() == ""
    assert verify_store(store) == []


def test_passphrase_prompt_before_login(qtbot, tmp_path, clock):
    path = tmp_path / "enc.sqlite"
    open_store(path, clock, passphrase=KEY).close()
    seen: list[str] = []

    class Typist(PassphraseDialog):
        answers = ["wrong passphrase here", KEY]

        def exec(self) -> int:
            qtbot.addWidget(self)
            seen.append(self.error.text())
            self.field.setText(self.answers[len(seen) - 1])
            self.accept_passphrase()
            return 1

    store = open_database(path, clock, passphrase_dialog=Typist)
    assert store is not None and store.encrypted
    store.close()
    assert seen[0] == "" and "did not open" in seen[1]

    class Quitter(PassphraseDialog):
        def exec(self) -> int:
            qtbot.addWidget(self)
            return 0

    assert open_database(path, clock, passphrase_dialog=Quitter) is None


@pytest.fixture
def damaged_with_backup(staffed, tmp_path):
    """(db path, backup) where the database's header was overwritten after a backup."""
    store, ctx = staffed
    start_session(ctx["nurse"])
    report, _ = run_backup(ctx["admin"], store.path, tmp_path / "backups", "manual")
    path = Path(store.path)
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    with path.open("r+b") as fh:
        fh.write(b"\0" * 16)
    return path, report.path


def test_recovery_dialog_restores_the_newest_verified_backup(qtbot, damaged_with_backup,
                                                             clock):
    path, backup = damaged_with_backup
    damaged = path.read_bytes()
    opened: list[RecoveryDialog] = []

    class Admin(RecoveryDialog):
        def exec(self) -> int:
            qtbot.addWidget(self)
            opened.append(self)
            assert backup.name in self.backup_label.text()
            assert "checked sound" in self.backup_label.text()
            self.username.setText("nurse")
            self.password.setText("nurse-pass-1")
            self.restore()
            assert "may not restore" in self.error.text() and self.store is None
            self.username.setText("admin")
            self.password.setText(ADMIN_PW)
            self.restore()
            return int(self.store is not None)

    store = open_database(path, clock, recovery_dialog=Admin)
    assert store is not None and len(opened) == 1
    assert "damaged" in opened[0].problem
    try:
        assert store.audit_rows()[-1]["action"] == "restore"
        assert verify_store(store) == []
        assert store.count("sessions") == 1
    finally:
        store.close()
    kept = list(path.parent.glob(f"{path.name}.replaced-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == damaged


def test_recovery_dialog_without_backups_says_so(qtbot, tmp_path, clock):
    path = tmp_path / "lonely.sqlite"
    shutil.copy(Path(__file__), path)  # a text file where the database should be
    dialog = RecoveryDialog(path, clock, "not a ketalog database")
    qtbot.addWidget(dialog)
    assert "No usable backup" in dialog.backup_label.text()
    assert not dialog.restore_button.isEnabled()


def test_admin_menu_backup_and_restore_keep_an_encrypted_database_encrypted(
        qtbot, tmp_path, clock, monkeypatch):
    from ketalog.domain.entities import Role
    from ketalog.services.auth import add_user, bootstrap_admin, login
    from ketalog.services.backups import list_backups
    from ketalog.store.engine import FileKind, classify
    from ketalog.ui import app as app_module
    from ketalog.ui.app import GuiController

    store = open_store(tmp_path / "enc.sqlite", clock, passphrase=KEY)
    bootstrap_admin(store, clock, "admin", ADMIN_PW, clinic_name="C")
    admin = login(store, clock, "admin", ADMIN_PW)
    add_user(admin, "nurse", [Role.NURSE], "nurse-pass-1")
    monkeypatch.setattr(app_module.QMessageBox, "information", lambda *a, **k: None)
    controller = GuiController(store, clock, store.path)
    controller.open_main(admin)
    qtbot.addWidget(controller.main)
    start_session(login(store, clock, "nurse", "nurse-pass-1"))
    assert backed_up(qtbot, controller)
    backup = list_backups(controller.backup_folder(), store.path)[0].path
    assert classify(backup) is FileKind.ENCRYPTED
    monkeypatch.setattr(controller, "authenticate",
                        lambda username="": login(controller.store, clock, "admin", ADMIN_PW))
    assert controller.restore(backup)
    try:
        assert controller.store.encrypted and classify(store.path) is FileKind.ENCRYPTED
        assert controller.store.count("sessions") == 1
        assert verify_store(controller.store) == []
    finally:
        controller._close_all()
        controller.store.close()
