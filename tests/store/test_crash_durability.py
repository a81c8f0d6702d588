"""Power-cut stand-in: a writer process is SIGKILLed at a random moment while recording;
everything it reported as saved must be there, the file sound and the audit chain intact."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ketalog.domain.clock import FixedClock
from ketalog.store.connection import open_store
from ketalog.store.verify import verify_store

from .helpers import NURSE_PW, make_staff, start_patient_session

pytestmark = [
    pytest.mark.both_engines,
    pytest.mark.sqlite_only("SIGKILL durability of the local file's WAL"),
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)"),
]

WRITER = Path(__file__).with_name("crash_writer.py")
RUNS = 20
READY_TIMEOUT_S = 20.0


@pytest.fixture(scope="module")
def crash_db(tmp_path_factory) -> tuple[Path, int]:
    """One database shared by all runs: staff and an open session, made once."""
    path = tmp_path_factory.mktemp("crash") / "ketalog.db"
    clock = FixedClock(datetime(2026, 11, 24, 14, 0, tzinfo=UTC))
    store = open_store(path, clock)
    try:
        _, session_id = start_patient_session(make_staff(store, clock))
    finally:
        store.close()
    return path, session_id


class LineReader(threading.Thread):
    """Drains the child's stdout so the pipe never fills and blocks the writer."""

    def __init__(self, stream) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.lines: list[str] = []
        self.ready = threading.Event()

    def run(self) -> None:
        for raw in self.stream:
            line = raw.strip()
            if line == "ready":
                self.ready.set()
            elif line:
                self.lines.append(line)
        self.ready.set()  # EOF: stop waiting either way


@pytest.mark.parametrize("run", range(RUNS))
def test_sigkill_loses_nothing_that_was_reported_saved(crash_db, run):
    path, session_id = crash_db
    tag = f"crash-{run}"
    child = subprocess.Popen(
        [sys.executable, str(WRITER), str(path), "nina", NURSE_PW, str(session_id), tag],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    reader = LineReader(child.stdout)
    reader.start()
    try:
        assert reader.ready.wait(READY_TIMEOUT_S), "writer never became ready"
        assert child.poll() is None, f"writer died early: {child.stderr.read()}"
        time.sleep(random.Random(run).uniform(0.2, 0.8))
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        reader.join(timeout=10)
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    printed = reader.lines
    assert printed, "the writer committed nothing before it was killed"

    store = open_store(path, create=False)
    try:
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {r["uuid"] for r in store.rows("vitals", source=tag)}
        missing = set(printed) - stored
        assert not missing, f"{len(missing)} committed readings lost"
        # at most the one reading that committed but was not yet printed
        assert len(stored) - len(printed) in (0, 1)
        unaudited = store.conn.execute(
            "SELECT count(*) FROM vitals v WHERE NOT EXISTS (SELECT 1 FROM audit_log a "
            "WHERE a.table_name = 'vitals' AND a.row_uuid = v.uuid)").fetchone()[0]
        assert unaudited == 0
        assert verify_store(store) == []
    finally:
        store.close()
