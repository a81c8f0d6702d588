"""The HL7 listener: MLLP over TCP, one thread per connection, one store connection of
its own, written by one thread at a time.

Connection threads parse frames and queue them, then take the write lock: whoever holds
it commits everything queued in one transaction (group commit: monitors whose messages
arrived during the previous fsync share the next one) and hands each connection its
result, so an AA the sender received is on disk. A thread whose message a previous
holder already committed just takes its result: with one monitor there is no hand-off
to another thread at all. Whatever a peer sends cannot stop the listener: a frame
that cannot be read gets an AR, bytes that cannot be delimited (a frame over the cap,
a flood outside frames) get an AR and the connection is closed, and any failure of our
own is answered with AE and logged."""

from __future__ import annotations

import logging
import socket
import socketserver
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path

from ketalog.domain.clock import Clock, SystemClock
from ketalog.interop.hl7_ack import build_ack
from ketalog.interop.mllp import DEFAULT_MAX_FRAME_BYTES, Frame, MllpDecoder, wrap
from ketalog.services.database import is_server_address, open_server_database
from ketalog.services.device_feed import DeviceFeed, FeedResult, Incoming
from ketalog.services.errors import service_boundary
from ketalog.store.connection import open_store
from ketalog.store.store import Actor, Store

log = logging.getLogger(__name__)
LISTENER_ACTOR = Actor(None, "hl7-listener")
POLL_S = 0.25  # how often an idle connection thread checks for shutdown
MAX_BATCH = 64  # messages committed together at most
MAX_CONNECTIONS = 64  # a clinic has a handful of monitors; more is a misbehaving peer
# Connection-level limits, so no peer can hold every slot: a connection that sends no
# complete frame for this long is closed (half-sent frames, silent sockets), and one
# address may hold a few connections only (a gateway multiplexing monitors needs more:
# the setting is per listener).
IDLE_TIMEOUT_S = 60.0
MAX_CONNECTIONS_PER_PEER = 8


@dataclass
class ListenerStats:
    connections: int = 0
    open_connections: int = 0
    accepted: int = 0  # AA
    refused: int = 0  # AE / AR (quarantined, unreadable, or not stored)
    frame_problems: int = 0
    refused_connections: int = 0  # over the global or the per-address cap
    idle_closed: int = 0  # no complete frame within the idle timeout


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = False  # server_close() joins the connection threads
    block_on_close = True
    listener: Hl7Listener


class _Connection(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        listener = self.server.listener
        sock: socket.socket = self.request
        sock.settimeout(POLL_S)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # an ACK goes out at once
        peer = str(self.client_address[0])
        with listener.stats_lock:
            listener.stats.connections += 1
            listener.stats.open_connections += 1
            listener.peers[peer] = listener.peers.get(peer, 0) + 1
            crowded = listener.stats.open_connections > listener.max_connections
            greedy = listener.peers[peer] > listener.max_per_peer
        try:
            if crowded or greedy:
                with listener.stats_lock:
                    listener.stats.refused_connections += 1
                log.warning("HL7: closing a new connection from %s (%s)", peer,
                            f"more than {listener.max_per_peer} from that address" if greedy
                            else f"more than {listener.max_connections} connections")
                return
            self._serve(listener, sock)
        except OSError:
            return
        finally:
            with listener.stats_lock:
                listener.stats.open_connections -= 1
                listener.peers[peer] -= 1
                if not listener.peers[peer]:
                    del listener.peers[peer]

    def _serve(self, listener: Hl7Listener, sock: socket.socket) -> None:
        decoder = MllpDecoder(listener.max_frame_bytes)
        last_frame = time.monotonic()
        while not listener.stopping.is_set():
            if time.monotonic() - last_frame > listener.idle_timeout_s:
                with listener.stats_lock:
                    listener.stats.idle_closed += 1
                log.info("HL7: closing a connection from %s: no complete message for %.0f s",
                         self.client_address[0], listener.idle_timeout_s)
                return
            try:
                data = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            for item in decoder.feed(data):
                last_frame = time.monotonic()
                if isinstance(item, Frame):
                    answer = listener.process(item.payload)
                else:
                    with listener.stats_lock:
                        listener.stats.frame_problems += 1
                    answer = listener.problem_ack(item.reason)
                try:
                    sock.sendall(wrap(answer))
                except OSError:
                    return
                if not isinstance(item, Frame) and item.fatal:
                    return


class Hl7Listener:
    def __init__(self, database: Path | str, host: str = "127.0.0.1", port: int = 2575, *,
                 clock: Clock | None = None, started_by: Actor = LISTENER_ACTOR,
                 max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES, local_tz: tzinfo | None = None,
                 on_result: Callable[[FeedResult], None] | None = None,
                 passphrase: str | None = None, idle_timeout_s: float = IDLE_TIMEOUT_S,
                 max_connections: int = MAX_CONNECTIONS,
                 max_per_peer: int = MAX_CONNECTIONS_PER_PEER) -> None:
        # The local file, or a clinic server's address (the feed then runs once per
        # clinic, on the server machine: `ketalog listen-hl7 --db postgresql://...`).
        self.server = str(database) if is_server_address(database) else None
        self.db_path = Path(database) if self.server is None else None
        self.host, self.port = host, port
        self.passphrase = passphrase  # an encrypted file needs it for our own connection
        self.clock = clock or SystemClock()
        self.started_by, self.max_frame_bytes, self.local_tz = started_by, max_frame_bytes, local_tz
        self.on_result = on_result
        self.stopping = threading.Event()
        self.stats = ListenerStats()
        self.stats_lock = threading.Lock()
        self.idle_timeout_s, self.max_connections = idle_timeout_s, max_connections
        self.max_per_peer = max_per_peer
        self.peers: dict[str, int] = {}  # open connections per address, under stats_lock
        self._lock = threading.Lock()
        self._store: Store | None = None
        self._feed: DeviceFeed | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._queue: deque[tuple[Incoming, Future[FeedResult]]] = deque()  # under _lock

    @property
    def address(self) -> tuple[str, int]:
        if self._server is None:
            return self.host, self.port
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @service_boundary
    def start(self) -> None:
        """Open the store, bind (OSError if the port is taken) and serve on a thread."""
        if self.server is not None:
            store = open_server_database(self.server, self.clock)
        else:
            assert self.db_path is not None
            store = open_store(self.db_path, self.clock, create=False,
                               passphrase=self.passphrase)
        try:
            server = _Server((self.host, self.port), _Connection, bind_and_activate=True)
        except OSError:
            store.close()
            raise
        server.listener = self
        self._store, self._feed, self._server = store, DeviceFeed(store, self.clock,
                                                                  self.local_tz), server
        self._audit("hl7_listener_started")
        self._thread = threading.Thread(target=server.serve_forever, args=(POLL_S,),
                                        name="hl7-listener", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, let connection threads finish their message, close the store."""
        if self._server is None:
            return
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()  # joins the connection threads (their last ACKs sent)
        with self._lock:
            self._audit("hl7_listener_stopped")
            if self._store is not None:
                self._store.close()
            self._store = self._feed = None
        self._server = None

    def _audit(self, action: str) -> None:
        if self._store is None:
            return
        host, port = self.address
        try:
            with self._store.write(self.started_by) as w:
                w.event(action, details={"host": host, "port": port,
                                         "accepted": self.stats.accepted,
                                         "refused": self.stats.refused})
        except Exception:  # noqa: BLE001 - an audit failure must not keep the port open
            log.exception("could not audit %s", action)

    def process(self, payload: bytes) -> bytes:
        """Parse (outside the lock), commit or quarantine, then return the ACK."""
        feed = self._feed
        if feed is None:
            return self.problem_ack("the listener is stopping; resend", "AE")
        future: Future[FeedResult] = Future()
        self._queue.append((feed.prepare(payload), future))
        with self._lock:
            while not future.done():  # else the previous holder committed it with its own
                self._commit_queued()
        result = future.result()
        with self.stats_lock:
            if result.ack_code == "AA":
                self.stats.accepted += 1
            else:
                self.stats.refused += 1
        if self.on_result is not None:
            try:
                self.on_result(result)
            except Exception:  # noqa: BLE001
                log.exception("on_result callback failed")
        return build_ack(result.ack_code, result.header, result.text, self.clock.now(),
                         _ack_id(), warnings=result.warnings)

    def _commit_queued(self) -> None:
        """Commit up to MAX_BATCH queued messages in one transaction (caller holds _lock)."""
        batch = [self._queue.popleft() for _ in range(min(MAX_BATCH, len(self._queue)))]
        try:
            assert self._feed is not None
            results = self._feed.commit([incoming for incoming, _ in batch])
        except Exception as exc:  # noqa: BLE001 - a bug of ours must not hang senders
            log.exception("HL7 batch could not be processed")
            results = [FeedResult("AE", f"internal error, not stored: {type(exc).__name__}",
                                  i.header) for i, _ in batch]
        for (_, future), result in zip(batch, results, strict=True):
            future.set_result(result)

    def problem_ack(self, reason: str, code: str = "AR") -> bytes:
        return build_ack(code, None, reason, self.clock.now(), _ack_id())


def _ack_id() -> str:
    return uuid.uuid4().hex[:20]
