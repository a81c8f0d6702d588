"""MLLP framing (HL7 v2 over TCP): <VT> message <FS><CR>. The decoder is a pure state
machine fed with whatever bytes arrive, so framing is tested without sockets; it never
holds more than one frame plus the cap in memory, whatever a peer sends."""

from __future__ import annotations

from dataclasses import dataclass

START = b"\x0b"
END = b"\x1c\x0d"
DEFAULT_MAX_FRAME_BYTES = 1 << 20  # 1 MiB: a monitor's ORU^R01 is a few kB
_BLANK = b"\r\n\x00 \t"


def wrap(message: bytes) -> bytes:
    return START + message + END


@dataclass(frozen=True)
class Frame:
    """A complete message between the start block and <FS><CR>."""

    payload: bytes


@dataclass(frozen=True)
class FrameProblem:
    """Bytes that are not a proper frame. `fatal`: the stream cannot be resynchronised
    (or a peer floods us), so the connection should be closed after answering."""

    reason: str
    fatal: bool = False


class MllpDecoder:
    def __init__(self, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> None:
        self.max_frame_bytes = max_frame_bytes
        self._buf = bytearray()
        self._in_frame = False
        self._scanned = 0  # bytes of _buf already searched for the end block
        self._junk = 0

    def feed(self, data: bytes) -> list[Frame | FrameProblem]:
        """Consume `data`; return the frames and problems it completed, in order."""
        self._buf += data
        out: list[Frame | FrameProblem] = []
        while True:
            if not self._in_frame:
                start = self._buf.find(START)
                junk = bytes(self._buf if start < 0 else self._buf[:start])
                if junk.strip(_BLANK):
                    self._junk += len(junk)
                    if END in junk:
                        out.append(FrameProblem("frame without a start block (0x0B)"))
                        self._junk = 0
                    if self._junk > self.max_frame_bytes:
                        out.append(FrameProblem(f"more than {self.max_frame_bytes} bytes "
                                                "outside any MLLP frame", fatal=True))
                        self._junk = 0
                if start < 0:
                    # keep a trailing <FS> so a split <FS><CR> is still recognised as junk end
                    self._buf = self._buf[-1:] if self._buf.endswith(b"\x1c") else bytearray()
                    return out
                del self._buf[:start + 1]
                self._in_frame, self._scanned, self._junk = True, 0, 0
                continue
            from_ = max(0, self._scanned - 1)
            end = self._buf.find(END, from_)
            restart = self._buf.find(START, from_)
            if restart >= 0 and (end < 0 or restart < end):
                out.append(FrameProblem("truncated frame (a new start block arrived before "
                                        "the end block)"))
                del self._buf[:restart + 1]
                self._scanned = 0
                continue
            if end < 0:
                self._scanned = len(self._buf)
                if len(self._buf) > self.max_frame_bytes:
                    out.append(FrameProblem(f"frame exceeds {self.max_frame_bytes} bytes",
                                            fatal=True))
                    self._buf.clear()
                    self._in_frame = False
                return out
            if end > self.max_frame_bytes:
                out.append(FrameProblem(f"frame exceeds {self.max_frame_bytes} bytes",
                                        fatal=True))
            else:
                out.append(Frame(bytes(self._buf[:end])))
            del self._buf[:end + len(END)]
            self._in_frame, self._scanned = False, 0

    @property
    def pending_bytes(self) -> int:
        """Bytes of an unfinished frame (closing the connection now truncates it)."""
        return len(self._buf) if self._in_frame else 0
