"""Verify and backup report progress (phase, done, total), so a ten-year file shows how
far it has got; the CLI turns that into a line on stderr."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ketalog.cli.progress import ProgressLine
from ketalog.store.backup import backup_to
from ketalog.store.store import Store
from ketalog.store.verify import verify_store
from tests.store.helpers import build_signed_session
from tests.store.test_backup import add_session

pytestmark = pytest.mark.both_engines


def _phases(calls: list[tuple[str, int, int]]) -> list[str]:
    seen: list[str] = []
    for phase, _, _ in calls:
        if not seen or seen[-1] != phase:
            seen.append(phase)
    return seen


def _monotone(calls: list[tuple[str, int, int]]) -> bool:
    last: dict[str, int] = {}
    for phase, done, total in calls:
        if not 0 <= done <= total or done < last.get(phase, 0):
            return False
        last[phase] = done
    return True


def test_verify_reports_each_phase_to_its_end(store: Store, clock) -> None:  # noqa: ANN001
    build_signed_session(store, clock)
    calls: list[tuple[str, int, int]] = []
    assert verify_store(store, lambda *c: calls.append(c)) == []
    assert _phases(calls) == ["integrity", "foreign keys", "audit chain", "signatures",
                             "signature keys",
                             "rows against history"]
    assert _monotone(calls)
    ends = {phase: (done, total) for phase, done, total in calls}
    assert ends["signatures"] == (1, 1)
    entries = store.audit_entry_count()
    assert entries > 5 and ends["audit chain"] == (entries, entries)


def test_verify_reports_about_a_hundred_steps_not_one_per_session(store: Store) -> None:
    for n in range(3):
        add_session(store, f"M{n}", 10)
    calls: list[tuple[str, int, int]] = []
    verify_store(store, lambda *c: calls.append(c))
    chain = [c for c in calls if c[0] == "audit chain"]
    assert 2 <= len(chain) <= 102


@pytest.mark.sqlite_only("the online backup of the local SQLite file reports its pages")
def test_backup_reports_copy_count_and_check(store: Store, tmp_path: Path) -> None:
    add_session(store, "M1", 3000)
    pages: list[tuple[int, int]] = []
    calls: list[tuple[str, int, int]] = []
    backup_to(store, tmp_path / "b.sqlite", lambda d, t: pages.append((d, t)),
              pages_per_step=8, phases=lambda *c: calls.append(c))
    assert len(pages) > 2 and pages[-1][0] == pages[-1][1]
    assert _phases(calls) == ["copy", "count", "check copy"]
    assert _monotone(calls)
    assert calls[-1] == ("check copy", 3, 3)


def test_progress_line_in_a_log_prints_each_phase_and_tenth_once() -> None:
    out = io.StringIO()
    now = [0.0]
    line = ProgressLine("verify", out, tty=False, clock=lambda: now[0])
    line("integrity", 0, 1)
    assert out.getvalue() == ""  # quick jobs stay quiet in logs
    now[0] = 10.0
    for n in range(0, 1001):
        line("signatures", n, 1000)
    line("integrity", 1, 1)
    line.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 12  # 0 %, 10 % ... 100 %, then the next phase
    assert lines[0].startswith("verify: signatures 0/1,000 0 %")
    assert lines[-1].startswith("verify: integrity 100 %")


def test_progress_line_on_a_terminal_rewrites_one_line() -> None:
    out = io.StringIO()
    line = ProgressLine("backup", out, tty=True)
    line("copy", 5, 10)
    line("copy", 10, 10)
    line.close()
    text = out.getvalue()
    assert text.count("\r") == 2 and text.endswith("\n") and "copy 10/10 100 %" in text


@pytest.mark.sqlite_only("the online backup of the local SQLite file, copied page by page")
def test_backup_finishes_while_another_connection_writes(store: Store, tmp_path: Path,
                                                         clock) -> None:  # noqa: ANN001
    """A write between two steps used to restart the copy from page 1 (for ever, on a
    file that takes minutes while the monitor feed writes every few seconds)."""
    from ketalog.store.connection import open_store
    from ketalog.store.store import SYSTEM

    add_session(store, "M1", 3000)
    other = open_store(store.path, clock)
    copied: list[tuple[int, int]] = []

    def write_between_steps(done: int, total: int) -> None:
        copied.append((done, total))
        with other.write(SYSTEM) as w:
            w.event("feed", details={"step": len(copied)})

    try:
        report = backup_to(store, tmp_path / "b.sqlite", write_between_steps,
                           pages_per_step=4)
    finally:
        other.close()
    dones = [d for d, _ in copied]
    assert dones == sorted(dones), "the copy restarted"
    before = report.row_counts["audit_log"]
    assert store.count("audit_log") == before + len(copied)  # the copy is the snapshot
