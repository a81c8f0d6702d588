"""The app on a clinic server: it opens the server's database, and what needs the local
file (scheduled, manual and closing backups, restoring one, the quick_check) or runs once
per clinic on the server (the monitor feed) is skipped or refused with a message, never
a crash; the address's password is never shown."""

from __future__ import annotations

from ketalog.services.auth import login
from ketalog.services.clinic_setup import create_clinic
from ketalog.services.device_feed_settings import FeedSettings, save_feed_settings
from ketalog.ui import app as app_module
from ketalog.ui import startup
from ketalog.ui.app import GuiController
from ketalog.ui.feed_runner import SERVER_FEED
from tests.pg_clinic import WORKSTATION_LOGIN

SECRET = "ws-Secret-77"


def test_the_app_on_a_clinic_server(qtbot, pg_clinic, clock, monkeypatch):
    conninfo = f"{pg_clinic.conninfo(WORKSTATION_LOGIN)} password={SECRET}"
    store = startup.open_database(conninfo, clock)
    assert store is not None and store.on_server
    told: list[str] = []
    monkeypatch.setattr(app_module.QMessageBox, "information",
                        lambda *a, **k: told.append(a[2]))
    monkeypatch.setattr(app_module.QMessageBox, "warning",
                        lambda *a, **k: (_ for _ in ()).throw(AssertionError(a[2])))
    try:
        create_clinic(store, clock, "boss", "admin-pass-1", clinic_name="Server Clinic")
        ctx = login(store, clock, "boss", "admin-pass-1")
        save_feed_settings(ctx, FeedSettings(True, "127.0.0.1", 2575))
        controller = GuiController(store, clock, conninfo)
        assert not controller.backup_timer.isActive()
        assert not controller.integrity.timer.isActive()
        controller.open_main(ctx)
        qtbot.addWidget(controller.main)
        assert not controller.feed.running and controller.feed.listener is None
        assert SECRET not in controller.main.statusBar().currentMessage()
        assert "postgresql://" in controller.main.statusBar().currentMessage()
        assert not controller.feed.start(controller.where, FeedSettings(True), ctx)
        assert controller.feed.error == SERVER_FEED
        assert not controller.backup("scheduled") and told == []
        assert not controller.backup("manual")
        assert told and "pg_dump" in told[-1]
        controller.ask_restore()
        assert "pg_restore" in told[-1]
        controller.backup_settings()
        assert "pg_dump" in told[-1]
        controller.shutdown()  # no closing backup, no crash
        controller._close_all()
    finally:
        store.close()


def test_an_unreachable_server_is_said_not_crashed(qtbot, pg_server, clock, monkeypatch):
    shown: list[str] = []
    monkeypatch.setattr(startup.QMessageBox, "critical", lambda *a, **k: shown.append(a[2]))
    conninfo = (f"host={pg_server.host} port=1 dbname=nowhere user=nobody "
                f"password={SECRET}")
    assert startup.open_database(conninfo, clock) is None
    assert shown and "cannot reach the clinic server" in shown[0]
    assert SECRET not in shown[0]
