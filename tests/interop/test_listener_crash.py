"""`ketalog listen-hl7` killed with SIGKILL while a monitor streams: every message it
acknowledged with AA is on disk afterwards, the file sound and the audit chain intact."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ketalog.domain.clock import FixedClock
from ketalog.domain.entities import DoseKind
from ketalog.interop.hl7_ack import parse_ack
from ketalog.interop.hl7_build import oru_message
from ketalog.services import sessions
from ketalog.services.mllp_client import MllpClient
from ketalog.store.connection import open_store
from ketalog.store.verify import verify_store
from tests.services.test_device_feed import BP
from tests.store.helpers import make_staff, start_patient_session

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)"),
]
ROOT = Path(__file__).resolve().parents[2]
RUNS = 4


def start_listener(db: Path) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen([sys.executable, "-m", "ketalog", "--db", str(db), "listen-hl7",
                             "--port", "0", "--quiet"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "listening for HL7 on" in line, line + proc.stderr.read()  # type: ignore[union-attr]
    port = int(line.split(" on ")[1].split(" ")[0].rsplit(":", 1)[1])
    return proc, port


def test_sigkill_mid_stream_loses_no_acknowledged_reading(tmp_path):
    db = tmp_path / "feed.sqlite"
    clock = FixedClock(datetime.now(UTC) - timedelta(hours=1))
    store = open_store(db, clock)
    staff = make_staff(store, clock)
    _, session_id = start_patient_session(staff, mrn="K-CRASH")
    sessions.record_dose(staff.nurse, session_id, DoseKind.START, rate_mg_per_h=30,
                         acknowledge=True)
    store.close()
    rng = random.Random(int(os.environ.get("KETALOG_CRASH_SEED", "11")))
    acknowledged: list[str] = []
    for run in range(RUNS):
        proc, port = start_listener(db)
        stop = threading.Event()

        def stream(run: int = run, port: int = port, stop: threading.Event = stop) -> None:
            try:
                with MllpClient("127.0.0.1", port) as c:
                    n = 0
                    while not stop.is_set():
                        control = f"R{run}-{n}"
                        at = datetime.now(UTC) - timedelta(seconds=1)
                        ack = c.send(oru_message(control, BP, at, mrn="K-CRASH"))
                        if not ack:
                            return
                        if parse_ack(ack)[:2] == ("AA", control):
                            acknowledged.append(control)
                        n += 1
            except OSError:
                return  # the listener died under us: expected

        sender = threading.Thread(target=stream)
        sender.start()
        time.sleep(rng.uniform(0.3, 1.2))
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        stop.set()
        sender.join(10)
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
        assert any(a.startswith(f"R{run}-") for a in acknowledged), "nothing was sent"

    store = open_store(db, clock)
    try:
        stored = {str(r["control_id"]) for r in store.rows("device_messages", status="stored")}
        assert set(acknowledged) <= stored
        assert store.count("vitals", session_id=session_id) == len(stored)
        assert verify_store(store) == []
    finally:
        store.close()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_sigint_stop_cleanly_and_audit(tmp_path, signum):
    db = tmp_path / "feed.sqlite"
    clock = FixedClock(datetime.now(UTC) - timedelta(hours=1))
    store = open_store(db, clock)
    staff = make_staff(store, clock)
    start_patient_session(staff, mrn="K-STOP")
    store.close()
    proc, port = start_listener(db)
    with MllpClient("127.0.0.1", port) as c:
        ack = c.send(oru_message("S1", BP, datetime.now(UTC), mrn="K-STOP"))
        assert parse_ack(ack)[0] == "AA"
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert "stopped: 1 accepted, 0 refused" in out
    store = open_store(db, clock)
    try:
        actions = [r["action"] for r in store.audit_rows() if r["username"] == "hl7-listener"]
        assert actions == ["hl7_listener_started", "hl7_listener_stopped"]
        assert verify_store(store) == []
    finally:
        store.close()
