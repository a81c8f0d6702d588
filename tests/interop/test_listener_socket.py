"""The listener over a real TCP socket: ACK after commit, gateway message shapes,
concurrent monitors, and peers sending garbage, truncated or huge frames."""

from __future__ import annotations

import random
import sqlite3
import threading
from datetime import UTC, timedelta

import pytest

from ketalog.interop.hl7_ack import parse_ack
from ketalog.interop.hl7_build import oru_message
from ketalog.services.device_listener import Hl7Listener
from ketalog.services.mllp_client import MllpClient
from ketalog.store.verify import verify_store
from tests.interop.test_hl7_oru import LOCAL_TREND, PCD01
from tests.services.test_device_feed import BP, open_session

MAX_FRAME = 64 * 1024


@pytest.fixture
def listener(staffed, clock):
    store, ctx = staffed
    sessions = {mrn: open_session(ctx["nurse"], mrn, chair)
                for mrn, chair in (("K1001", "Chair 2"), ("K2", "Chair 3"), ("K3", "Chair 4"))}
    server = Hl7Listener(store.path, "127.0.0.1", 0, clock=clock, max_frame_bytes=MAX_FRAME,
                         local_tz=UTC)
    server.start()
    yield server, store, sessions
    server.stop()


def client(server: Hl7Listener) -> MllpClient:
    return MllpClient(*server.address)


def raw_db(store) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{store.path}?mode=ro", uri=True)


def test_ack_arrives_only_after_the_readings_are_committed(listener, clock):
    server, store, sessions = listener
    other = raw_db(store)  # a separate connection, as another process would see the file
    with client(server) as c:
        for n in range(20):
            control = f"A{n}"
            ack = c.send(oru_message(control, BP, clock.now() - timedelta(seconds=n),
                                     mrn="K2"))
            assert parse_ack(ack)[:2] == ("AA", control)
            row = other.execute("SELECT status, session_id, readings FROM device_messages "
                                "WHERE control_id = ?", [control]).fetchone()
            assert row == ("stored", sessions["K2"], 1)
    assert other.execute("SELECT count(*) FROM vitals WHERE source = 'device:MONITOR_GW'"
                         ).fetchone()[0] == 20
    other.close()


def test_gateway_shapes_over_the_wire(listener):
    server, store, sessions = listener
    with client(server) as c:
        code, control, text = parse_ack(c.send(PCD01))
        assert (code, control) == ("AA", "MSG00042") and "1 reading" in text
        code, control, text = parse_ack(c.send(LOCAL_TREND.encode("latin-1")))
        assert (code, control) == ("AA", "7781") and "3 reading" in text
    rows = store.rows("vitals", order_by="id", session_id=sessions["K1001"])
    assert [r["source"] for r in rows] == ["device:IVUE_GW"] + ["device:BeneVision"] * 3
    assert rows[0]["temp_c"] == 37.0 and rows[0]["etco2_mmhg"] == 38.3
    assert rows[-1]["temp_c"] == 36.8  # °C sent in Latin-1


def test_refusals_are_acknowledged_and_quarantined(listener, clock):
    server, store, _ = listener
    with client(server) as c:
        code, control, text = parse_ack(c.send(oru_message("Q1", BP, clock.now(), mrn="NOPE")))
        assert (code, control) == ("AE", "Q1") and "no open session" in text
        code, _, text = parse_ack(c.send(oru_message("Q2", {"hr_bpm": 999.0}, clock.now(),
                                                     mrn="K2")))
        assert code == "AE" and "plausible" in text
        assert parse_ack(c.send(b"MSH|^~\\&|X|||||ADT^A01|Q3|P|2.5\r"))[0] == "AR"
    assert store.count("device_messages", status="quarantined") == 3
    assert store.count("vitals") == 0


def good(c: MllpClient, control: str, clock) -> None:
    assert parse_ack(c.send(oru_message(control, BP, clock.now(), mrn="K3")))[0] == "AA"


def test_garbage_truncated_and_huge_frames_never_stop_it(listener, clock):
    server, store, _ = listener
    with client(server) as c:
        c.send_raw(b"\x00\xff GET / HTTP/1.1\r\n" * 10 + b"\x1c\r")
        assert parse_ack(c.read_ack())[0] == "AR"
        good(c, "G1", clock)  # the same connection goes on
        c.send_raw(b"\x0bMSH|^~\\&|half a mess")
        c.send_raw(b"\x0b" + oru_message("G2", BP, clock.now(), mrn="K3").encode() + b"\x1c\r")
        code, _, text = parse_ack(c.read_ack())
        assert code == "AR" and "truncated" in text
        assert parse_ack(c.read_ack())[:2] == ("AA", "G2")
        assert parse_ack(c.send(bytes(range(256)) * 3))[0] == "AR"  # framed nonsense
    with client(server) as c:  # cut off mid-frame, then the peer goes away
        c.send_raw(b"\x0bMSH|^~\\&|GW||||20261124||ORU^R01|G3|P|2.5\rPID|||K3\rOBX|1|NM|")
    with client(server) as c:
        c.send_raw(b"\x0b" + b"A" * (MAX_FRAME + 10) + b"\x1c\r")
        code, _, text = parse_ack(c.read_ack())
        assert code == "AR" and "exceeds" in text
        assert c.closed_by_server()
    with client(server) as c:
        c.send_raw(b"x" * (MAX_FRAME * 2))  # a flood with no frame at all
        assert parse_ack(c.read_ack())[0] == "AR" and c.closed_by_server()
    rng = random.Random(7)
    for _ in range(30):
        with client(server) as c:
            c.send_raw(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3000))))
    with client(server) as c:
        good(c, "G4", clock)
    assert store.count("vitals") == 3
    assert verify_store(store) == []


def test_several_monitors_at_once(listener, clock):
    server, store, sessions = listener
    errors: list[str] = []

    def monitor(mrn: str) -> None:
        with client(server) as c:
            for n in range(15):
                code = parse_ack(c.send(oru_message(f"{mrn}-{n}", BP,
                                                    clock.now() - timedelta(seconds=n),
                                                    mrn=mrn)))[0]
                if code != "AA":
                    errors.append(code)

    threads = [threading.Thread(target=monitor, args=(m,)) for m in ("K1001", "K2", "K3")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert all(store.count("vitals", session_id=s) == 15 for s in sessions.values())
    assert server.stats.accepted == 45 and verify_store(store) == []


def test_listener_start_and_stop_are_audited(staffed, clock):
    store, _ = staffed
    server = Hl7Listener(store.path, "127.0.0.1", 0, clock=clock)
    server.start()
    with pytest.raises(OSError):  # the port is taken: a second listener refuses to start
        Hl7Listener(store.path, "127.0.0.1", server.address[1], clock=clock).start()
    server.stop()
    server.stop()  # idempotent
    actions = [r["action"] for r in store.audit_rows() if r["username"] == "hl7-listener"]
    assert actions == ["hl7_listener_started", "hl7_listener_stopped"]


def test_send_hl7_command_feeds_the_listener(listener, clock, capsys):
    from ketalog.cli import main

    server, store, sessions = listener
    port = str(server.address[1])
    assert main(["send-hl7", "--port", port, "--bed", "CHAIR3", "--count", "3",
                 "--interval", "0"], clock=clock) == 0
    assert main(["send-hl7", "--port", port, "--mrn", "NOBODY", "--count", "1"],
                clock=clock) == 0
    out = capsys.readouterr().out
    assert out.count(": AA stored 1 reading(s) in session") == 3
    assert ": AE quarantined: no open session for MRN NOBODY" in out
    assert store.count("vitals", session_id=sessions["K2"], source="device:KETALOG_SIM") == 3
    server.stop()
    assert main(["send-hl7", "--port", port, "--mrn", "X", "--count", "1"], clock=clock) == 1


def test_too_many_connections_are_closed_and_the_rest_served(listener, clock):
    server, _store, _ = listener
    server.max_connections = 2
    first, second = client(server), client(server)
    good(first, "M1", clock)
    good(second, "M2", clock)
    with client(server) as third:
        assert third.closed_by_server()
    good(first, "M3", clock)
    first.close()
    second.close()


def test_listener_on_an_encrypted_database_uses_the_passphrase(tmp_path, clock):
    from ketalog.store.connection import open_store
    from tests.services.test_device_feed import open_session as open_session_for
    from tests.store.helpers import make_staff

    key = "correct horse battery staple"
    store = open_store(tmp_path / "enc.sqlite", clock, passphrase=key)
    try:
        staff = make_staff(store, clock)
        session_id = open_session_for(staff.nurse, "E1", "Chair 5")
        server = Hl7Listener(store.path, "127.0.0.1", 0, clock=clock, local_tz=UTC,
                             passphrase=key)
        server.start()
        try:
            with client(server) as c:
                code, _, _ = parse_ack(c.send(oru_message("E-1", BP, clock.now(), mrn="E1")))
        finally:
            server.stop()
        assert code == "AA"
        assert store.count("vitals", session_id=session_id) == 1
        assert verify_store(store) == []
    finally:
        store.close()
