"""Change notifications on the real test server (store/pg_changes.py): a write committed
through one workstation's store reaches another's ChangeFeed within a second, names what
it touched, is sent only on commit, and stays under the server's payload limit."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from ketalog.store import patients as patient_rows
from ketalog.store import pg_changes
from ketalog.store.pg_connection import open_server_store
from ketalog.store.store import Actor
from ketalog.store.touched import Touched
from tests.pg_clinic import WORKSTATION_LOGIN

pytest.importorskip("psycopg", reason="psycopg is not installed")

ROOT = Path(__file__).resolve().parents[2]
NURSE = Actor(None, "nurse1")


def patient_row(mrn: str) -> dict[str, object]:
    return {"mrn": mrn, "family_name": "Okafor", "given_name": "Ada",
            "birth_date": date(1980, 2, 3).isoformat(), "sex": "female",
            "created_at": "2026-11-24T14:00:00.000Z"}


@pytest.fixture
def two_stores(pg_clinic, clock):
    a = open_server_store(pg_clinic.conninfo(WORKSTATION_LOGIN), clock)
    b = open_server_store(pg_clinic.conninfo(WORKSTATION_LOGIN), clock)
    feed = pg_changes.open_feed(b)
    assert feed is not None
    yield a, b, feed
    feed.close()
    a.close()
    b.close()


def test_a_write_on_one_workstation_reaches_the_others_feed(two_stores):
    a, b, feed = two_stores
    assert a.on_server and feed.take() == []
    with a.write(NURSE) as w:
        pid = patient_rows.insert_patient(w, patient_row("K1"))
    [change] = feed.wait(2.0)
    made = patient_rows.patient(a, pid)
    uuid = made.uuid if made else None
    assert (change.table, change.action, change.row_uuid, change.patient_id, change.rows,
            change.by, change.own) == ("patients", "insert", uuid, pid, 1, "nurse1", False)
    assert change.workstation.startswith("ketalog ")
    with b.write(NURSE) as w:  # the listening store's own write is marked as its own
        patient_rows.update_patient(w, pid, {"family_name": "Obi"})
    [own] = feed.wait(2.0)
    assert (own.action, own.patient_id, own.own) == ("update", pid, True)


def test_p95_latency_is_under_a_second_over_50_changes(two_stores):
    a, _b, feed = two_stores
    latencies = []
    for n in range(50):
        started = time.perf_counter()
        with a.write(NURSE) as w:
            patient_rows.insert_patient(w, patient_row(f"L{n}"))
        got = feed.wait(2.0)
        latencies.append(time.perf_counter() - started)
        assert [c.table for c in got] == ["patients"]
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(f"notification latency (write + delivery): median {latencies[25] * 1000:.1f} ms, "
          f"p95 {p95 * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms")
    assert p95 < 1.0


def test_a_rolled_back_write_tells_nobody(two_stores):
    a, _b, feed = two_stores
    with pytest.raises(RuntimeError), a.write(NURSE) as w:
        patient_rows.insert_patient(w, patient_row("R1"))
        raise RuntimeError("changed my mind")
    assert feed.wait(0.3) == []
    with a.write(NURSE):
        pass  # a write that appends nothing sends nothing
    assert feed.wait(0.3) == []


def test_a_bulk_write_is_coalesced_under_the_payload_limit(two_stores):
    a, _b, feed = two_stores
    rows = [patient_row(f"B{n:04d}") for n in range(400)]
    with a.write(NURSE) as w:
        w.insert_many("patients", rows)
    changes = feed.wait(2.0)
    assert sum(c.rows for c in changes if c.table == "patients") == 400
    assert all(c.action == "insert" for c in changes)


def test_payloads_shrink_to_fit():
    rows = [Touched("vitals", "insert", f"uuid-{n}", n, 3, "nurse1") for n in range(2000)]
    text = pg_changes.payload(rows, "ketalog ws-1")
    assert text is not None and len(text.encode()) <= pg_changes.MAX_PAYLOAD
    data = json.loads(text)
    assert data["by"] == "nurse1"
    assert data["c"] == [["vitals", "insert", None, None, None, 2000]]
    many = [Touched(f"t{n}", "insert", "u", None, 1, "nurse1") for n in range(2000)]
    [everything] = pg_changes.changes_of(pg_changes.payload(many, "ws") or "", own=False)
    assert everything.everything
    assert pg_changes.changes_of("not json", own=False)[0].everything
    assert pg_changes.payload([], "ws") is None


def test_a_payload_groups_rows_by_session_and_patient():
    rows = [Touched("vitals", "insert", "b", 7, 3, "nurse1"),
            Touched("vitals", "insert", "a", 7, 3, "nurse1"),
            Touched("doses", "insert", "c", 8, 4, "nurse1")]
    data = json.loads(pg_changes.payload(rows, "ws") or "")
    assert data["c"] == [["vitals", "insert", None, 7, 3, 2], ["doses", "insert", "c", 8, 4, 1]]


def test_a_session_update_names_its_session_and_patient(two_stores):
    """An update's audit entry holds only the changed columns; the notification still
    says which session and patient the row belongs to."""
    a, _b, feed = two_stores
    with a.write(NURSE) as w:
        pid = patient_rows.insert_patient(w, patient_row("U1"))
    feed.wait(2.0)
    with a.write(NURSE) as w:
        patient_rows.update_patient(w, pid, {"family_name": "Obi"})
    [change] = feed.wait(2.0)
    assert (change.table, change.action, change.patient_id) == ("patients", "update", pid)


WRITER = """
import sys
from ketalog.store import patients
from ketalog.store.pg_connection import open_server_store
from ketalog.store.store import Actor
from ketalog.store.touched import Touched
store = open_server_store(sys.argv[1])
with store.write(Actor(None, "nurse2")) as w:
    patients.insert_patient(w, {"mrn": "P1", "family_name": "Ng", "given_name": "Li",
                                "birth_date": "1990-01-01", "sex": "male",
                                "created_at": "2026-11-24T14:00:00.000Z"})
store.close()
"""


def test_a_write_from_another_process_is_seen(pg_clinic, clock):
    listener = open_server_store(pg_clinic.conninfo(WORKSTATION_LOGIN), clock)
    feed = pg_changes.open_feed(listener)
    assert feed is not None
    try:
        done = subprocess.run([sys.executable, "-c", WRITER,
                               pg_clinic.conninfo(WORKSTATION_LOGIN)],
                              cwd=ROOT, capture_output=True, text=True, timeout=60,
                              env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
        assert done.returncode == 0, done.stderr
        changes = feed.wait(5.0)
        assert [(c.table, c.action, c.by, c.own) for c in changes] == [
            ("patients", "insert", "nurse2", False)]
        found = patient_rows.patient_with_mrn(listener, "P1")
        assert found is not None and changes[0].patient_id == found.id
    finally:
        feed.close()
        listener.close()


def test_a_local_file_has_no_feed(tmp_path, clock):
    from ketalog.store.connection import open_store

    store = open_store(tmp_path / "k.db", clock)
    try:
        assert not store.on_server and pg_changes.open_feed(store) is None
    finally:
        store.close()
