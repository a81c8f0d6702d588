"""What trust costs: recording a vitals set in an encrypted (SQLCipher) database against
the same in a plain one, and opening a clinic-sized file (quick_check included) against
a bare connection to it, plain and encrypted. Same machine, same run."""

from __future__ import annotations

import sqlite3
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from benchmarks.common import Figure, median, timings_ms
from ketalog.domain.clock import FixedClock
from ketalog.domain.entities import Bag, Role
from ketalog.services import sessions as svc
from ketalog.services.auth import add_user, bootstrap_admin, login
from ketalog.services.patients import PatientInput, create_patient
from ketalog.store.connection import open_store
from ketalog.store.engine import open_connection
from ketalog.store.store import SYSTEM

N = 300
KEY = "benchmark passphrase"
FILLER_VITALS = 60_000  # about 15 MB: a busy clinic's year of manual readings


def recording(path: Path, passphrase: str | None) -> list[float]:
    clock = FixedClock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    store = open_store(path, clock, passphrase=passphrase)
    bootstrap_admin(store, clock, "admin", "admin-pass-1")
    add_user(login(store, clock, "admin", "admin-pass-1"), "nurse", [Role.NURSE], "nurse-pass-1")
    nurse = login(store, clock, "nurse", "nurse-pass-1")
    patient = create_patient(nurse, PatientInput("B1", "Bench", "Mark", date(1970, 1, 1)))
    session = svc.start_session(nurse, svc.SessionStart(patient.id, 80, Bag("ketamine", 1, 500)))
    values = {"sbp_mmhg": 120.0, "dbp_mmhg": 80.0, "hr_bpm": 70.0, "spo2_pct": 98.0}

    def one() -> None:
        clock.advance(seconds=5)
        svc.record_vitals(nurse, session.id, values)

    timings_ms(one, 20)
    result = timings_ms(one, N)
    now = "2026-11-24T09:00:00.000Z"
    with store.write(SYSTEM) as w:  # grow the file for the open benchmark
        w.insert_many("vitals", ({"session_id": session.id, "at": now, "sbp_mmhg": 120.0,
                                  "source": f"filler {i}", "entered_at": now}
                                 for i in range(FILLER_VITALS)))
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return result


def open_ms(path: Path, passphrase: str | None, bare: bool) -> float:
    def one() -> None:
        if bare:
            conn = open_connection(path, passphrase)
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            conn.close()
        else:
            open_store(path, passphrase=passphrase).close()
    timings_ms(one, 2)
    return median(timings_ms(one, 7))


def run() -> list[Figure]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        plain = recording(folder / "plain.sqlite", None)
        encrypted = recording(folder / "enc.sqlite", KEY)
        size_mb = (folder / "plain.sqlite").stat().st_size / 1e6
        figures = [
            Figure("record vitals: median, encrypted vs plain", median(encrypted), "ms",
                   median(plain), "<= 1.5x", median(encrypted) <= 1.5 * median(plain)),
        ]
        for label, key in (("plain", None), ("encrypted", KEY)):
            path = folder / ("plain.sqlite" if key is None else "enc.sqlite")
            full, bare = open_ms(path, key, False), open_ms(path, key, True)
            figures.append(Figure(f"open {size_mb:.0f} MB {label} (checks vs bare connect)",
                                  full, "ms", bare, "< 1 s", full < 1000))
        conn = sqlite3.connect(str(folder / "plain.sqlite"))
        t0 = time.perf_counter()
        conn.execute("PRAGMA quick_check").fetchall()
        figures.append(Figure(f"quick_check of {size_mb:.0f} MB plain", (time.perf_counter() - t0)
                              * 1000, "ms", None, "info"))
        conn.close()
    return figures


if __name__ == "__main__":
    from benchmarks.common import print_table

    print_table(run())
