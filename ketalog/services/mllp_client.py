"""A minimal MLLP client: send a frame, read one ACK. Used by `ketalog send-hl7` (a
monitor stand-in for trying the feed), the tests and the benchmark."""

from __future__ import annotations

import socket

from ketalog.interop.mllp import END, START, wrap


class MllpClient:
    def __init__(self, host: str, port: int, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buffer = b""

    def send(self, message: str | bytes) -> bytes:
        data = message.encode() if isinstance(message, str) else message
        self.sock.sendall(wrap(data))
        return self.read_ack()

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_ack(self) -> bytes:
        """The next framed answer; b'' if the server closed the connection instead."""
        while END not in self._buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                return b""
            self._buffer += chunk
        frame, _, self._buffer = self._buffer.partition(END)
        return frame[frame.find(START) + 1:]

    def closed_by_server(self) -> bool:
        try:
            return self.sock.recv(1) == b""
        except (ConnectionResetError, BrokenPipeError):
            return True

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> MllpClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
