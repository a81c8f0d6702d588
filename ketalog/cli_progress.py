"""A progress line on stderr for long commands (verify, backup) on a ten-year file: on a
terminal one line rewritten in place; in a log (not a TTY) a line per phase and per 10 %,
so cron mails and CI logs stay short. Never on stdout, which scripts parse."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressLine:
    """Use as a PhaseProgress callback: line(phase, done, total); close() ends the line."""

    def __init__(self, what: str, stream: TextIO | None = None,
                 tty: bool | None = None) -> None:
        self.what = what
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.start = time.monotonic()
        self._last: tuple[str, int] | None = None
        self._width = 0

    def __call__(self, phase: str, done: int, total: int) -> None:
        pct = 100 * done // total if total > 0 else 100
        elapsed = time.monotonic() - self.start
        count = f" {done:,}/{total:,}" if total > 1 else ""
        text = f"{self.what}: {phase}{count} {pct} % ({elapsed:.0f} s)"
        if self.tty:
            self.stream.write("\r" + text.ljust(self._width))
            self._width = len(text)
            self.stream.flush()
            return
        key = (phase, pct // 10)
        if key != self._last:
            self._last = key
            print(text, file=self.stream, flush=True)

    def close(self) -> None:
        if self.tty and self._width:
            self.stream.write("\n")
            self.stream.flush()
