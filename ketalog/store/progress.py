"""Progress callbacks for long store work (backup, verify), so a screen or the CLI can
show how far a ten-year file has got. Callbacks run on the worker's own thread."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[int, int], None]  # (done, total) of one job, e.g. pages copied
# (phase, done, total): phases run one after the other; a phase that is one SQLite
# statement (integrity_check) reports 0 of 1 when it starts and 1 of 1 when it ends.
PhaseProgress = Callable[[str, int, int], None]


def every(total: int, parts: int = 100) -> int:
    """How often to report `total` items so a job makes about `parts` calls."""
    return max(1, total // parts)
