"""The first start asks where the records live: this computer only (the local file in the
user data folder) or a clinic server (tested with the real test server, its password never
shown); the choice is remembered for later starts, --db and KETALOG_DB override it, and an
existing database file means no question at all (`make run` unchanged)."""

from __future__ import annotations

import argparse
import os
import stat

import pytest
from PySide6.QtCore import Qt

from ketalog.cli import context
from ketalog.paths import DB_ENV
from ketalog.services import workstation
from ketalog.ui import app as app_module
from ketalog.ui.database_choice import DatabaseChoiceDialog
from tests.pg_clinic import WORKSTATION_LOGIN

SECRET = "ws-Secret-91"


@pytest.fixture(autouse=True)
def own_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv(DB_ENV, raising=False)
    return tmp_path / "data" / "ketalog"


def chosen(argv: list[str] | None = None) -> argparse.Namespace:
    args = argparse.Namespace(db=None)
    if argv:
        args.db = argv[0]
    context.choose_database(args)
    return args


def test_local_choice_is_the_default_file_and_remembered(qtbot, clock, own_data_folder):
    assert chosen().ask_where
    dialog = DatabaseChoiceDialog(clock)
    qtbot.addWidget(dialog)
    assert dialog.local.isChecked() and not dialog.address.isEnabled()
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.keyClick(dialog.focusWidget() or dialog, Qt.Key.Key_Return)  # Enter = OK
    assert dialog.result() == DatabaseChoiceDialog.DialogCode.Accepted
    assert dialog.location == own_data_folder / "ketalog.sqlite"
    settings = own_data_folder / "workstation.json"
    assert stat.S_IMODE(os.stat(settings).st_mode) == 0o600
    args = chosen()
    assert not args.ask_where and args.db == own_data_folder / "ketalog.sqlite"


def test_escape_cancels_and_the_app_exits_cleanly(qtbot, clock, monkeypatch):
    dialog = DatabaseChoiceDialog(clock)
    qtbot.addWidget(dialog)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert dialog.result() == DatabaseChoiceDialog.DialogCode.Rejected
    assert dialog.location is None and workstation.remembered_database() is None
    monkeypatch.setattr(app_module, "_setup_logging", lambda: None)
    monkeypatch.setattr("ketalog.ui.database_choice.ask_where", lambda *a, **k: None)
    assert app_module.run_gui("unused.sqlite", clock=clock, ask_where=True) == 0


def test_server_connection_test_works_and_is_remembered(qtbot, clock, pg_clinic):
    address = f"{pg_clinic.conninfo(WORKSTATION_LOGIN)} password={SECRET}"
    dialog = DatabaseChoiceDialog(clock)
    qtbot.addWidget(dialog)
    dialog.server.setChecked(True)
    assert dialog.address.isEnabled()
    dialog.address.setText(address)
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    text = dialog.message.text()
    assert text.startswith("Connected to postgresql://") and SECRET not in text
    dialog.choose()
    assert dialog.location == address
    args = chosen()
    assert not args.ask_where and args.server == address and args.db is None
    assert SECRET not in args.where


def test_a_failing_server_says_why_without_the_password(qtbot, clock, pg_clinic):
    address = (f"{pg_clinic.conninfo(WORKSTATION_LOGIN)} password={SECRET}"
               ).replace(f"dbname={pg_clinic.name}", "dbname=no_such_clinic")
    dialog = DatabaseChoiceDialog(clock)
    qtbot.addWidget(dialog)
    dialog.server.setChecked(True)
    dialog.address.setText(address)
    assert not dialog.test_connection()
    text = dialog.message.text()
    assert text.startswith("Could not open postgresql://") and "no_such_clinic" in text
    assert SECRET not in text
    dialog.choose()  # OK with a failing server keeps the dialog open
    assert dialog.location is None and workstation.remembered_database() is None
    dialog.address.setText("not an address")
    assert not dialog.test_connection() and "not a server address" in dialog.message.text()


def test_an_empty_server_address_is_asked_for(qtbot, clock):
    dialog = DatabaseChoiceDialog(clock)
    qtbot.addWidget(dialog)
    dialog.server.setChecked(True)
    dialog.choose()
    assert dialog.location is None and "address" in dialog.message.text()


def test_remembered_choice_is_overridden_by_db_and_env(tmp_path, monkeypatch):
    workstation.remember_database("host=clinic dbname=ketalog user=workstation_1")
    assert chosen().server == "host=clinic dbname=ketalog user=workstation_1"
    monkeypatch.setenv(DB_ENV, str(tmp_path / "env.sqlite"))
    args = chosen()
    assert args.server is None and args.db == tmp_path / "env.sqlite" and not args.ask_where
    monkeypatch.delenv(DB_ENV)
    args = chosen([str(tmp_path / "flag.sqlite")])
    assert args.server is None and args.db == tmp_path / "flag.sqlite"


def test_an_existing_database_file_means_no_question(own_data_folder):
    own_data_folder.mkdir(parents=True)
    (own_data_folder / "ketalog.sqlite").write_bytes(b"x" * 10)
    args = chosen()
    assert not args.ask_where and args.db == own_data_folder / "ketalog.sqlite"


def test_env_given_means_no_question(tmp_path, monkeypatch):
    monkeypatch.setenv(DB_ENV, str(tmp_path / "new.sqlite"))
    assert not chosen().ask_where


def test_an_unreadable_settings_file_asks_again(own_data_folder):
    own_data_folder.mkdir(parents=True)
    (own_data_folder / "workstation.json").write_text("{not json")
    assert workstation.remembered_database() is None and chosen().ask_where


def test_the_login_dialog_can_change_the_database(qtbot, clock, tmp_path, monkeypatch):
    from ketalog.services.clinic_setup import create_clinic
    from ketalog.store.connection import open_store
    from ketalog.ui.login import LoginDialog

    store = open_store(tmp_path / "clinic.sqlite", clock)
    create_clinic(store, clock, "boss", "admin-pass-1", clinic_name="Local Clinic")
    login = LoginDialog(store, clock)
    qtbot.addWidget(login)
    choice = DatabaseChoiceDialog(clock, parent=login)
    monkeypatch.setattr(choice, "exec", lambda: (choice.choose(), choice.result())[1])
    assert login.change_database(choice)
    assert workstation.remembered_database() == str(workstation.local_file())
    assert "next start" in login.error.text()
    store.close()
