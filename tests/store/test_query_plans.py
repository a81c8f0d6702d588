"""Nothing in the GUI may scan all vitals (issue 8). Every screen's and service's read path
runs on a small generated clinic while SQLite's trace callback records the statements it
executed (parameters bound); each one is then EXPLAINed and must not SCAN the vitals table
(not even through an index: that still reads every reading). The paths are the ones the
main window, course view, session window, monitor feed and quarantine use."""

from __future__ import annotations

import re
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from benchmarks.gen_ten_years import END, PASSWORD, generate
from ketalog.domain.clock import FixedClock
from ketalog.domain.entities import Bag
from ketalog.interop.hl7_build import oru_message
from ketalog.services import device_quarantine, patients, series, sessions, summary
from ketalog.services.auth import login
from ketalog.services.course import load_course
from ketalog.services.device_feed import DeviceFeed
from ketalog.services.device_feed_choices import open_session_choices
from ketalog.services.device_feed_settings import quarantine_count
from ketalog.services.protocols import sessions_using
from ketalog.services.record import load_record
from ketalog.services.vitals_series import load_vitals, load_vitals_columns
from ketalog.store.connection import open_store
from ketalog.store.device_messages import vitals_after
from ketalog.store.store import Store

pytestmark = [pytest.mark.both_engines, pytest.mark.sqlite_only(
    "reads SQLite's query plans through its trace callback")]

SCALE = 0.004  # 12 patients, 200 sessions, ~40,000 vitals


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("plans") / "clinic.sqlite"
    generate(path, SCALE, seed=3, say=lambda _: None)
    return path


def read_paths(store: Store) -> dict[str, Callable[[], object]]:
    """Name -> the call a screen makes; each is run once with tracing on."""
    clock = store.clock
    ctx = login(store, clock, "nurse1", PASSWORD)
    conn = store.conn
    device_sid = conn.execute(  # the densest session: it has monitor data
        "SELECT session_id FROM vitals WHERE source LIKE 'device:%' LIMIT 1").fetchone()[0]
    patient = store.get("patients", 1)
    assert patient is not None
    # a patient in a chair now (a small clinic may have nobody in today), for the feed
    sessions.start_session(ctx, sessions.SessionStart(
        int(patient["id"]), 70.0, Bag("ketamine", 1.0, 500.0), chair="Chair 1"))  # type: ignore[call-overload]
    feed = DeviceFeed(store, clock)

    def hl7(mrn: str) -> Callable[[], object]:
        text = oru_message("C1" + mrn, {"hr_bpm": 80.0, "spo2_pct": 97.0},
                           clock.now() - timedelta(seconds=30), mrn=mrn)
        return lambda: feed.receive(text.encode())

    def session_open() -> None:
        load_record(ctx, device_sid, with_vitals=False)
        columns = load_vitals_columns(ctx, device_sid)
        load_vitals(ctx, columns.ids[:200])
        vitals_after(store, device_sid, columns.ids[-1])

    paths: dict[str, Callable[[], object]] = {
        "patient list": lambda: patients.search_patients(ctx, "", limit=500),
        "search name prefix": lambda: patients.search_patients(ctx, str(patient["family_name"])[:3]),
        "search MRN": lambda: patients.search_patients(ctx, str(patient["mrn"])),
        "search DOB": lambda: patients.search_patients(ctx, str(patient["birth_date"])),
        "today board": lambda: summary.today_board(ctx, clock.now()),
        "awaiting signature": lambda: summary.session_lines(ctx, now=clock.now(),
                                                            statuses=("completed",)),
        "planned": lambda: series.planned_sessions(ctx, 14),
        "patient history": lambda: summary.session_lines(ctx, 1, clock.now()),
        "course": lambda: load_course(ctx, 1, now=clock.now()),
        "session open": session_open,
        "feed: open sessions": lambda: open_session_choices(ctx),
        "feed: unknown patient (quarantined)": hl7("NO-SUCH-MRN"),
        "quarantine list": lambda: device_quarantine.quarantined(ctx),
        "quarantine count": lambda: quarantine_count(store),
        "protocol in use": lambda: sessions_using(ctx, 1),
        "feed: matched reading": hl7(str(patient["mrn"])),
    }
    return paths


# Tables that grow with every session: no screen may read them whole. Patients (3,000 in
# ten years) may be scanned by the search; the audit head is read backwards, one row.
GROWING = ("vitals", "sessions", "dose_events", "adjunct_medications", "scores",
           "side_effects", "notes", "follow_ups", "signatures", "addenda",
           "treatment_series", "device_messages")
KEYWORDS = {"WHERE", "ORDER", "JOIN", "ON", "LIMIT", "SET", "VALUES", "GROUP", "USING"}


def _scans(conn: sqlite3.Connection, sql: str, tables: tuple[str, ...] = ("vitals",)
           ) -> list[str]:
    """Plan lines that SCAN one of `tables` (by name or by its alias in `sql`)."""
    names = set(tables)
    for table in tables:
        names |= set(re.findall(rf"\b{table}\s+(?:AS\s+)?(\w+)", sql, re.IGNORECASE))
    names -= KEYWORDS
    details = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql)]
    return [d for d in details if (m := re.match(r"SCAN (\w+)", d)) and m.group(1) in names]


@pytest.fixture(scope="module")
def traced(clinic: Path, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[sqlite3.Connection, list[tuple[str, str]]]]:
    """(connection, [(path name, SELECT as executed)]) after running every read path."""
    path = tmp_path_factory.mktemp("traced") / "copy.sqlite"
    shutil.copy(clinic, path)
    store = open_store(path, FixedClock(END))
    statements: list[tuple[str, str]] = []
    current = [""]
    try:
        for name, call in read_paths(store).items():
            current[0] = name
            store.conn.set_trace_callback(lambda sql: statements.append((current[0], sql)))
            try:
                call()
            finally:
                store.conn.set_trace_callback(None)
        yield store.conn, [(n, s) for n, s in statements
                           if s.lstrip().upper().startswith("SELECT")]
    finally:
        store.close()


def test_every_path_was_traced(traced: tuple[sqlite3.Connection, list[tuple[str, str]]]
                               ) -> None:
    _, selects = traced
    assert {n for n, _ in selects} >= {"search MRN", "today board", "planned", "course",
                                       "session open", "feed: open sessions",
                                       "feed: matched reading", "quarantine list"}


def test_no_gui_path_scans_vitals(traced: tuple[sqlite3.Connection, list[tuple[str, str]]]
                                  ) -> None:
    conn, selects = traced
    scans = [(name, sql[:120], plan) for name, sql in selects for plan in _scans(conn, sql)]
    assert not scans, f"these GUI paths scan all vitals: {scans}"


def test_no_gui_path_scans_a_growing_table(
        traced: tuple[sqlite3.Connection, list[tuple[str, str]]]) -> None:
    """The today board, Planned tab and protocol count needed m007 for this."""
    conn, selects = traced
    scans = [(name, sql[:120], plan) for name, sql in selects
             for plan in _scans(conn, sql, GROWING)]
    assert not scans, f"these GUI paths scan a table that grows with every session: {scans}"


def test_the_check_sees_a_scan(clinic: Path) -> None:
    conn = sqlite3.connect(clinic)
    try:
        assert _scans(conn, "SELECT count(*) FROM vitals WHERE hr_bpm > 100")
        assert _scans(conn, "SELECT * FROM vitals v WHERE v.source = 'x'")
        assert _scans(conn, "SELECT id FROM vitals ORDER BY session_id")  # whole index
        assert not _scans(conn, "SELECT * FROM vitals WHERE session_id = 1")
        assert _scans(conn, "SELECT * FROM sessions s WHERE s.chair = 'x'", GROWING)
    finally:
        conn.close()
