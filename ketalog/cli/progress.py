"""A progress line on stderr for long commands (verify, backup) on a ten-year file: on a
terminal one line rewritten in place; in a log (not a TTY) a line per phase and per 10 %
once the job has run for 10 s, so quick runs, cron mails and scripts that read stderr
stay as they were. Never on stdout, which scripts parse."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO


class ProgressLine:
    """Use as a PhaseProgress callback: line(phase, done, total); close() ends the line."""

    def __init__(self, what: str, stream: TextIO | None = None, tty: bool | None = None,
                 quiet_for_s: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.what = what
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.quiet_for_s = quiet_for_s
        self.clock = clock
        self.start = clock()
        self._last: tuple[str, int] | None = None
        self._width = 0

    def __call__(self, phase: str, done: int, total: int) -> None:
        pct = 100 * done // total if total > 0 else 100
        elapsed = self.clock() - self.start
        count = f" {done:,}/{total:,}" if total > 1 else ""
        text = f"{self.what}: {phase}{count} {pct} % ({elapsed:.0f} s)"
        if self.tty:
            self.stream.write("\r" + text.ljust(self._width))
            self._width = len(text)
            self.stream.flush()
            return
        key = (phase, pct // 10)
        if key != self._last and elapsed >= self.quiet_for_s:
            self._last = key
            print(text, file=self.stream, flush=True)

    def close(self) -> None:
        if self.tty and self._width:
            self.stream.write("\n")
            self.stream.flush()
