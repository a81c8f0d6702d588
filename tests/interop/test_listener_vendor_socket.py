"""Vendor messages over a real TCP socket to the listener: a monitor's query and ADT get
an ACK with their own trigger and leave nothing in the quarantine; a value refused alone
comes back as an ERR of severity W in an AA; every published message is answered."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import pytest

from ketalog.interop.hl7_ack import parse_ack
from ketalog.interop.hl7_build import oru_message
from ketalog.services.device_listener import Hl7Listener
from ketalog.services.mllp_client import MllpClient
from tests.services.test_device_feed import BP, open_session

VENDORS = Path(__file__).resolve().parents[1] / "fixtures" / "hl7" / "vendors"


@pytest.fixture
def listener(staffed, clock):
    store, ctx = staffed
    session = open_session(ctx["nurse"], "12345", "Chair 24")
    server = Hl7Listener(store.path, "127.0.0.1", 0, clock=clock, local_tz=UTC)
    server.start()
    yield server, store, session
    server.stop()


def segments(ack: bytes) -> list[str]:
    return [s for s in ack.decode().split("\r") if s]


def test_monitor_queries_are_answered_with_their_trigger_and_not_kept(listener):
    server, store, _session = listener
    with MllpClient(*server.address) as client:
        for _ in range(5):  # a monitor asks again and again
            query = client.send((VENDORS / "comen_nc5_query_qry_r02.hl7").read_bytes())
            adt = client.send((VENDORS / "comen_nc5_adt_a08.hl7").read_bytes())
    head = segments(query)[0].split("|")
    assert head[8] == "ACK^R02^ACK" and parse_ack(query)[:2] == ("AR", "20261124215900.0001")
    assert "200^Unsupported message type^HL70357" in query.decode()
    assert segments(adt)[0].split("|")[8] == "ACK^A08^ACK"
    assert store.count("device_messages") == 0 and store.count("vitals") == 0


def test_value_refused_alone_is_a_warning_in_an_aa(listener, clock):
    server, store, session = listener
    message = oru_message("W1", {**BP, "spo2_pct": 140.0}, clock.now(), mrn="12345")
    with MllpClient(*server.address) as client:
        ack = client.send(message.encode())
    assert parse_ack(ack)[0] == "AA"
    errors = [s.split("|") for s in segments(ack) if s.startswith("ERR")]
    assert len(errors) == 1 and errors[0][4] == "W" and "spo2_pct" in errors[0][8]
    row = store.rows("vitals", session_id=session)[0]
    assert row["spo2_pct"] is None and row["hr_bpm"] == BP["hr_bpm"]
    assert store.count("device_messages", status="quarantined") == 1


def test_every_published_message_is_answered_over_the_wire(listener):
    server, _store, _session = listener
    with MllpClient(*server.address) as client:
        for path in sorted(VENDORS.glob("*.hl7")):
            code, control, _text = parse_ack(client.send(path.read_bytes()))
            assert code in ("AA", "AE", "AR"), path.name
            assert control, path.name
