"""Recording one vitals set (validate, insert, audit, durable commit) against a raw
sqlite3 single-row insert with the same pragmas, both on this machine, same run."""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

from benchmarks.common import Figure, median, p99, timings_ms
from ketalog.domain.clock import FixedClock
from ketalog.domain.entities import Bag, Role
from ketalog.services import sessions as svc
from ketalog.services.auth import add_user, bootstrap_admin, login
from ketalog.services.patients import PatientInput, create_patient
from ketalog.store.connection import connect, open_store

N = 400


def raw_baseline(folder: Path) -> list[float]:
    conn = connect(folder / "raw.sqlite")
    conn.execute("CREATE TABLE vitals (id INTEGER PRIMARY KEY, uuid TEXT, session_id INTEGER, "
                 "at TEXT, sbp REAL, dbp REAL, hr REAL, spo2 REAL, rr REAL)")
    row = ("u", 1, "2026-01-01T00:00:00.000Z", 120.0, 80.0, 70.0, 98.0, 14.0)

    def one() -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO vitals (uuid, session_id, at, sbp, dbp, hr, spo2, rr) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
        conn.execute("COMMIT")

    timings_ms(one, 20)
    result = timings_ms(one, N)
    conn.close()
    return result


def ketalog_recording(folder: Path) -> list[float]:
    clock = FixedClock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    store = open_store(folder / "k.sqlite", clock)
    bootstrap_admin(store, clock, "admin", "admin-pass-1")
    add_user(login(store, clock, "admin", "admin-pass-1"), "nurse", [Role.NURSE], "nurse-pass-1")
    nurse = login(store, clock, "nurse", "nurse-pass-1")
    patient = create_patient(nurse, PatientInput("B1", "Bench", "Mark", date(1970, 1, 1)))
    session = svc.start_session(nurse, svc.SessionStart(patient.id, 80, Bag("ketamine", 1, 500)))
    values = {"sbp_mmhg": 120.0, "dbp_mmhg": 80.0, "hr_bpm": 70.0, "spo2_pct": 98.0,
              "rr_per_min": 14.0}

    def one() -> None:
        clock.advance(seconds=5)
        svc.record_vitals(nurse, session.id, values)

    timings_ms(one, 20)
    result = timings_ms(one, N)
    store.close()
    return result


def run() -> list[Figure]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        base = raw_baseline(folder)
        ours = ketalog_recording(folder)
    # Interleaving is not needed: both are dominated by the same fsync per commit.
    return [
        Figure("record vitals: median (ketalog vs raw insert)", median(ours), "ms",
               median(base), "<= 3x", median(ours) <= 3 * median(base)),
        Figure("record vitals: p99 (ketalog vs raw insert)", p99(ours), "ms", p99(base),
               "p99 < 10 ms", p99(ours) < 10),
    ]


if __name__ == "__main__":
    from benchmarks.common import print_table

    print_table(run())
