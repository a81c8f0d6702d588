"""Connection-level limits of the HL7 listener, with real sockets on loopback: 64
half-sent frames from one address hold a few slots only, and a real monitor (another
address) is answered at once; connections with no complete frame are closed after the
idle timeout, which frees the global cap for the monitor too."""

from __future__ import annotations

import socket
import time
from datetime import UTC

import pytest

from ketalog.interop.hl7_ack import parse_ack
from ketalog.interop.hl7_build import oru_message
from ketalog.services.device_listener import MAX_CONNECTIONS, Hl7Listener
from ketalog.services.mllp_client import MllpClient
from tests.services.test_device_feed import BP, open_session

HALF_FRAME = b"\x0bMSH|^~\\&|EVIL|||||20261124||ORU^R01|X|P|2.6\r"  # never ended


def _half_sent(address: tuple[str, int], source: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((source, 0))
    sock.connect(address)
    sock.sendall(HALF_FRAME)
    return sock


def _closed(sock: socket.socket, within_s: float) -> bool:
    sock.settimeout(within_s)
    try:
        return sock.recv(1) == b""
    except (TimeoutError, BlockingIOError):
        return False
    except (ConnectionResetError, BrokenPipeError):
        return True


def _monitor_gets_aa(server: Hl7Listener, clock, control: str) -> float:
    start = time.monotonic()
    with MllpClient(*server.address, timeout=5) as monitor:
        code = parse_ack(monitor.send(oru_message(control, BP, clock.now(), mrn="K1")))[0]
    assert code == "AA"
    return time.monotonic() - start


@pytest.fixture
def feed(staffed, clock, request):
    """A listener whose idle timeout is the test's `idle_s` mark (default 60 s)."""
    store, ctx = staffed
    open_session(ctx["nurse"], "K1", "Chair 2")
    mark = request.node.get_closest_marker("idle_s")
    server = Hl7Listener(store.path, "127.0.0.1", 0, clock=clock, local_tz=UTC,
                         idle_timeout_s=mark.args[0] if mark else 60.0)
    server.start()
    yield server
    server.stop()


def test_64_half_sent_frames_from_one_address_do_not_starve_a_monitor(feed, clock):
    socks = [_half_sent(feed.address, "127.0.0.2") for _ in range(MAX_CONNECTIONS)]
    try:
        time.sleep(0.3)
        closed = sum(_closed(s, 0.2) for s in socks)
        assert closed == MAX_CONNECTIONS - feed.max_per_peer  # all but a few refused
        assert _monitor_gets_aa(feed, clock, "M1") < 1.0  # answered at once
        assert feed.stats.refused_connections == closed
    finally:
        for s in socks:
            s.close()


def test_half_sent_frames_from_many_addresses_are_closed_after_the_idle_timeout(feed, clock):
    feed.max_per_peer = MAX_CONNECTIONS
    socks = [_half_sent(feed.address, f"127.0.1.{n + 1}") for n in range(MAX_CONNECTIONS)]
    try:
        deadline = time.monotonic() + 30
        while feed.stats.open_connections < MAX_CONNECTIONS and time.monotonic() < deadline:
            time.sleep(0.05)
        assert feed.stats.open_connections == MAX_CONNECTIONS  # the global cap is full
        with MllpClient(*feed.address, timeout=5) as late:
            assert late.closed_by_server()  # kept: no 65th connection
        assert not any(_closed(s, 0.01) for s in socks)  # within the 60 s: still open
        feed.idle_timeout_s = 0.5  # the timeout passes (read on every poll)
        assert all(_closed(s, 10.0) for s in socks)  # each closed by the idle timeout
        assert feed.stats.idle_closed >= MAX_CONNECTIONS
        _monitor_gets_aa(feed, clock, "M2")
    finally:
        for s in socks:
            s.close()


@pytest.mark.idle_s(2.0)
def test_a_monitor_sending_now_and_then_is_kept(feed, clock):
    with MllpClient(*feed.address, timeout=5) as monitor:
        for n in range(3):
            assert parse_ack(monitor.send(oru_message(f"P{n}", BP, clock.now(),
                                                      mrn="K1")))[0] == "AA"
            time.sleep(1.0)  # under the idle timeout between complete messages
    assert feed.stats.idle_closed == 0
