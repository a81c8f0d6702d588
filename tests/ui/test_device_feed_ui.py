"""The monitor feed in the GUI: a reading sent over the wire appears in the open session
window, the quarantine dialog assigns and discards, the admin switches the listener."""

from __future__ import annotations

import socket
from datetime import UTC, timedelta

from ketalog.interop.hl7_ack import parse_ack
from ketalog.interop.hl7_build import oru_message
from ketalog.services import sessions as svc
from ketalog.services.device_feed import DeviceFeed
from ketalog.services.device_feed_settings import feed_settings
from ketalog.services.device_listener import Hl7Listener
from ketalog.services.mllp_client import MllpClient
from ketalog.ui.device_feed_dialog import FeedSettingsDialog
from ketalog.ui.feed_runner import FeedRunner, feed_status_line
from ketalog.ui.main_window import MainWindow
from ketalog.ui.quarantine_dialog import QuarantineDialog
from ketalog.ui.session_window import SessionWindow
from tests.services.test_device_feed import BP, open_session


def test_device_reading_appears_in_the_open_session_window(qtbot, staffed, clock):
    store, ctx = staffed
    sid = open_session(ctx["nurse"], "K500", "Chair 1")
    window = SessionWindow(ctx["nurse"], sid)
    qtbot.addWidget(window)
    window.confirm_close = lambda: True
    listener = Hl7Listener(store.path, "127.0.0.1", 0, clock=clock)
    listener.start()
    try:
        with MllpClient(*listener.address) as c:
            at = clock.now() - timedelta(seconds=20)
            ack = c.send(oru_message("UI1", {**BP, "sbp_mmhg": 187.0}, at, bed="CHAIR1"))
            assert parse_ack(ack)[0] == "AA"
        # the window's own timer picks it up: nothing here calls the poll
        qtbot.waitUntil(lambda: window.vitals_model.rowCount() == 1, timeout=6000)
    finally:
        listener.stop()
    window.chart.flush()
    assert window.chart.series_lengths()["sbp"] == 1
    assert window.columns.values["sbp_mmhg"] == [187.0]
    # a reading typed in this window is shown once, even though the poll sees it too
    clock.advance(seconds=10)
    reading = svc.record_vitals(ctx["nurse"], sid, BP)
    window.on_vitals_recorded(reading)
    window.poll_device_vitals()
    assert window.vitals_model.rowCount() == 2


def test_quarantine_dialog_assigns_and_discards(qtbot, staffed, clock):
    store, ctx = staffed
    sid = open_session(ctx["nurse"], "K600", "Chair 6")
    feed = DeviceFeed(store, clock)
    feed.receive(oru_message("QA", BP, clock.now(), mrn="UNKNOWN").encode())
    feed.receive(b"MSH|^~\\&|GW||||x||ORU^R01|QB|P|2.5\rOBX|1|NM|8867-4^HR^LN||7x|/min")
    main = MainWindow(ctx["nurse"], store.path)
    qtbot.addWidget(main)
    assert main.feed_label.text() == "2 monitor message(s) in quarantine (Patient > Monitor quarantine)"
    dialog = QuarantineDialog(ctx["nurse"])
    qtbot.addWidget(dialog)
    assert dialog.model.rowCount() == 2
    assert dialog.sessions.count() == 1 and "MRN K600" in dialog.sessions.itemText(0)
    dialog.view.selectRow(next(r for r in range(2) if dialog.model.row_at(r).control_id == "QA"))
    assert "PID|||UNKNOWN" in dialog.raw.toPlainText()
    assert dialog.assign()
    assert store.count("vitals", session_id=sid) == 1
    assert dialog.model.rowCount() == 1
    assert not dialog.discard(reason="")  # a reason is required
    assert "reason" in dialog.message.text()
    assert dialog.discard(reason="test message from biomed")
    assert dialog.model.rowCount() == 0
    main.refresh_board()
    assert main.feed_label.text() == ""
    users = {r["username"] for r in store.audit_rows(table_name="device_messages")}
    assert users == {"device:GW", "device:MONITOR_GW", "nurse"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_admin_switches_the_listener_on_and_off(qtbot, staffed):
    store, ctx = staffed
    runner = FeedRunner()
    dialog = FeedSettingsDialog(ctx["admin"], store.path, runner)
    qtbot.addWidget(dialog)
    dialog.enabled.setChecked(True)
    dialog.port.setValue(free_port())
    try:
        assert dialog.save()
        assert runner.running and "Listening on 127.0.0.1" in runner.status()
        assert feed_status_line(store, runner) == f"Monitor feed on :{dialog.port.value()}"
        assert feed_settings(ctx["admin"]).enabled
        again = FeedSettingsDialog(ctx["admin"], store.path, runner)
        qtbot.addWidget(again)
        again.host.setText("")
        assert not again.save() and "address" in again.message.text()
        again.host.setText("127.0.0.1")
        again.enabled.setChecked(False)
        assert again.save()
        assert not runner.running and not feed_settings(ctx["admin"]).enabled
    finally:
        runner.stop()
    entries = [r for r in store.audit_rows() if r["username"] == "admin"
               and r["action"].startswith("hl7_listener")]
    assert [r["action"] for r in entries] == ["hl7_listener_started", "hl7_listener_stopped"]


def test_menus_offer_the_feed(qtbot, staffed, tmp_path):
    _store, ctx = staffed
    nurse_window = MainWindow(ctx["nurse"], tmp_path / "k.sqlite")
    admin_window = MainWindow(ctx["admin"], tmp_path / "k.sqlite")
    for w in (nurse_window, admin_window):
        qtbot.addWidget(w)
    names = {a.objectName() for a in nurse_window.findChildren(type(nurse_window.menus["patient"]
                                                                     .actions()[0]))}
    assert "actionMonitorQuarantine" in names and "actionMonitorFeed" not in names
    admin_names = {a.objectName() for a in admin_window.findChildren(
        type(admin_window.menus["patient"].actions()[0]))}
    assert "actionMonitorFeed" in admin_names


def test_saving_the_feed_on_an_encrypted_database_starts_the_listener(qtbot, tmp_path, clock):
    from ketalog.store.connection import open_store
    from tests.store.helpers import make_staff

    store = open_store(tmp_path / "enc.sqlite", clock, passphrase="correct horse battery")
    runner = FeedRunner()
    try:
        staff = make_staff(store, clock)
        dialog = FeedSettingsDialog(staff.admin, store.path, runner)
        qtbot.addWidget(dialog)
        dialog.enabled.setChecked(True)
        dialog.port.setValue(free_port())
        assert dialog.save(), dialog.message.text()  # it once forgot the passphrase
        assert runner.running
    finally:
        runner.stop()
        store.close()


def test_feed_dialog_shows_monitors_skew_and_unknown_codes_and_saves_rules(qtbot, staffed,
                                                                           clock):
    from pathlib import Path

    from ketalog.services.device_feed_config import feed_config, feed_rules

    store, ctx = staffed
    open_session(ctx["nurse"], "HED12", "Bed 79874")
    vendors = Path(__file__).resolve().parents[1] / "fixtures" / "hl7" / "vendors"
    feed = DeviceFeed(store, clock, UTC)
    feed.receive((vendors / "ge_vsp_spo2.hl7").read_bytes())
    feed.receive(oru_message("AHEAD", BP, clock.now() + timedelta(minutes=2), mrn="HED12",
                             sending_app="VSP").encode())
    dialog = FeedSettingsDialog(ctx["admin"], store.path, FeedRunner())
    qtbot.addWidget(dialog)
    table = dialog.monitors.table
    rows = {table.item(r, 0).text(): [table.item(r, c).text() for c in range(6)]
            for r in range(table.rowCount())}
    assert rows["VSP"][1] == "2" and rows["VSP"][4] == "120 s ahead"
    assert "150458^MDC_PULS_OXIM_PERF_INDEX (1)" in rows["VSP"][5]
    assert "1 code(s) the code map does not know" in dialog.monitors.unknown.text()
    rules = dialog.rules
    rules.code.setText("150458")
    rules.match.setCurrentText("MDC")
    rules.vital.setCurrentText("-")
    rules.source.setText("GE gateway: perfusion index")
    assert not rules.add_code() and "reason" in rules.message.text().lower()
    rules.reason.setText("known, not a vital")
    assert rules.add_code() and "150458 -> -" in rules.current.text()
    rules.bed.setText("ICU 79874")
    rules.chair.setText("Bed 79874")
    assert rules.map_bed()
    rules.tolerance.setValue(2)
    assert rules.save_rules()
    assert feed_rules(store).clock_ahead_min == 2 and "icu79874" in feed_config(store).beds
    entries = [r for r in store.audit_rows() if r["table_name"] == "clinic_settings"]
    assert [e["reason"] for e in entries[-3:]] == ["known, not a vital"] * 3


def test_session_header_says_when_the_monitor_went_silent(qtbot, staffed, clock):
    store, ctx = staffed
    sid = open_session(ctx["nurse"], "K600", "Chair 6")
    feed = DeviceFeed(store, clock, UTC)
    for n in range(3):  # a monitor sending every minute
        assert feed.receive(oru_message(f"Q{n}", BP, clock.now(), mrn="K600").encode()
                            ).ack_code == "AA"
        clock.advance(minutes=1)
    window = SessionWindow(ctx["nurse"], sid)
    qtbot.addWidget(window)
    window.confirm_close = lambda: True
    silent = window.header.labels["silent"]
    window.header.tick(window.record, clock.now())
    assert silent.text() == ""  # one minute since the last reading: still in step
    last = clock.now() - timedelta(minutes=1)
    clock.advance(minutes=1, seconds=30)  # 2.5 intervals without a reading
    window.header.tick(window.record, clock.now())
    assert silent.text() == f"monitor silent since {last.astimezone():%H:%M}"
    assert feed.receive(oru_message("Q9", BP, clock.now(), mrn="K600").encode()).ack_code == "AA"
    window.poll_device_vitals()
    window.header.tick(window.record, clock.now())
    assert silent.text() == ""
