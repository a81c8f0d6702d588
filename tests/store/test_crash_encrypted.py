"""The SIGKILL test of test_crash_durability on an encrypted database: SQLCipher's
page encryption must not weaken WAL durability or the audit chain."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ketalog.domain.clock import FixedClock
from ketalog.store.connection import open_store
from ketalog.store.verify import verify_store

from .helpers import NURSE_PW, make_staff, start_patient_session
from .test_crash_durability import READY_TIMEOUT_S, WRITER, LineReader

pytestmark = [
    pytest.mark.both_engines,
    pytest.mark.sqlite_only("SIGKILL durability of the encrypted local file's WAL"),
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)"),
]

KEY = "crash test passphrase"
RUNS = 6


@pytest.fixture(scope="module")
def encrypted_db(tmp_path_factory) -> tuple[Path, int]:
    path = tmp_path_factory.mktemp("crash-enc") / "ketalog.db"
    clock = FixedClock(datetime(2026, 11, 24, 14, 0, tzinfo=UTC))
    store = open_store(path, clock, passphrase=KEY)
    try:
        _, session_id = start_patient_session(make_staff(store, clock))
    finally:
        store.close()
    return path, session_id


@pytest.mark.parametrize("run", range(RUNS))
def test_sigkill_on_an_encrypted_file_loses_nothing(encrypted_db, run):
    path, session_id = encrypted_db
    tag = f"enc-crash-{run}"
    child = subprocess.Popen(
        [sys.executable, str(WRITER), str(path), "nina", NURSE_PW, str(session_id), tag],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "KETALOG_PASSPHRASE": KEY})
    reader = LineReader(child.stdout)
    reader.start()
    try:
        assert reader.ready.wait(READY_TIMEOUT_S), "writer never became ready"
        assert child.poll() is None, f"writer died early: {child.stderr.read()}"
        time.sleep(random.Random(1000 + run).uniform(0.2, 0.8))
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        reader.join(timeout=10)
        child.stdout.close()
        child.stderr.close()
    printed = reader.lines
    assert printed, "the writer committed nothing before it was killed"
    store = open_store(path, create=False, passphrase=KEY)
    try:
        stored = {r["uuid"] for r in store.rows("vitals", source=tag)}
        assert not set(printed) - stored
        assert len(stored) - len(printed) in (0, 1)
        assert verify_store(store) == []  # page HMACs, integrity, audit chain
    finally:
        store.close()
