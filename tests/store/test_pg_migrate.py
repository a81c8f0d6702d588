"""A single-workstation clinic's file moved, whole, to a new clinic server database
(store/pg_migrate.py), on the real test server: the demo clinic verifies before and
after with the same rows, dose totals, signatures and audit head; a database that holds
records and a file that does not verify are refused; a refusal by the server midway
leaves the database as empty as it was."""

from __future__ import annotations

import sqlite3
import time

import pytest

from ketalog.domain.clock import FixedClock
from ketalog.domain.hashing import content_hash
from ketalog.domain.indications import Category
from ketalog.services.summary import dose_summary
from ketalog.store import indications as indication_rows
from ketalog.store import sessions as sessions_store
from ketalog.store.audit import AuditChain
from ketalog.store.connection import open_for_verify
from ketalog.store.content import session_content
from ketalog.store.errors import StoreError
from ketalog.store.pg_connection import open_server_store
from ketalog.store.pg_migrate import MigrationRefused, audit_head, migrate_from_file
from ketalog.store.store import SYSTEM, Store
from ketalog.store.verify import verify_store
from tests.pg_clinic import OWNER_LOGIN, WORKSTATION_LOGIN, Clinic
from tests.pg_migration import NOW, demo_file, empty_database, rows_per_table

pytestmark = pytest.mark.slow
CLOCK = FixedClock(NOW)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return demo_file(tmp_path_factory.mktemp("demo"))


@pytest.fixture
def source(demo, tmp_path):
    """A copy of the demo file of the test's own (some tests change it)."""
    path = tmp_path / "clinic.sqlite"
    path.write_bytes(demo[0].read_bytes())
    return path


@pytest.fixture(scope="module")
def moved(demo, pg_roles):
    """The demo file moved into a new database once, for the checks that only read."""
    clinic = empty_database(pg_roles)
    phases: list[tuple[str, int, int]] = []
    started = time.perf_counter()
    report = migrate_from_file(demo[0], None, clinic.conninfo(OWNER_LOGIN), CLOCK,
                               lambda phase, done, total: phases.append((phase, done, total)))
    elapsed = time.perf_counter() - started
    print(f"\nthe demo clinic moved to the server in {elapsed:.1f} s "
          f"({sum(report.copied.values())} rows)")
    return clinic, report, phases


def _server(clinic: Clinic, login: str = WORKSTATION_LOGIN) -> Store:
    return open_server_store(clinic.conninfo(login), CLOCK)


def _key(store: Store, table: str) -> str:
    columns = store.columns(table)
    if "id" in columns:
        return "id"
    return "user_id, role" if table == "user_roles" else "key"


def test_the_demo_clinic_moves_whole_and_verifies_before_and_after(demo, moved):
    clinic, report, phases = moved
    assert report.sound, (report.target_problems, report.differences)
    assert report.seconds < 120
    source, server = open_for_verify(demo[0], CLOCK), _server(clinic)
    try:
        assert verify_store(source) == []
        assert verify_store(server) == []
        tables = [t for t in source.table_counts() if not t.startswith("_")]
        assert sorted(report.copied) == sorted(tables)
        assert report.copied == {t: source.count(t) for t in report.copied}
        assert report.copied["vitals"] == demo[1].vitals > 1000
        for table in tables:  # every row of every table, column by column, ids included
            order = _key(source, table)
            assert server.rows(table, order_by=order) == source.rows(table, order_by=order), table
        head = audit_head(source.conn)
        assert report.source_head == report.target_head == head == audit_head(server.conn)
        assert head.entry_id == source.count("audit_log")
    finally:
        source.close()
        server.close()
    copied = [p for p in phases if p[0].startswith("copy ")]
    assert [p[0] for p in copied if p[1] == p[2]][-1] == "copy audit_log"  # last, verbatim
    assert {p[0] for p in phases if p[0].startswith("check file: ")} >= {
        "check file: audit chain", "check file: rows against history"}
    assert {p[0] for p in phases if p[0].startswith("check server: ")} >= {
        "check server: signatures", "check server: rows against history"}


def test_the_same_sessions_dose_totals_and_signatures(demo, moved):
    clinic, report, _ = moved
    source, server = open_for_verify(demo[0], CLOCK), _server(clinic)
    try:
        sessions = source.rows("sessions", order_by="id")
        assert server.rows("sessions", order_by="id") == sessions
        for row in sessions:
            sid, weight = int(str(row["id"])), float(str(row["weight_kg"]))
            assert dose_summary(server, sid, weight, NOW) == dose_summary(source, sid, weight, NOW)
        signed = sessions_store.signed_ids(source)
        assert sessions_store.signed_ids(server) == signed
        assert report.signed_sessions == len(signed) == demo[1].signed
        for sid in signed:
            digest = content_hash(session_content(server, sid))
            assert digest == content_hash(session_content(source, sid))
            signatures = server.rows("signatures", order_by="id", session_id=sid)
            assert signatures == source.rows("signatures", order_by="id", session_id=sid)
            assert signatures[-1]["content_hash"] == digest
    finally:
        source.close()
        server.close()


def test_the_server_goes_on_past_the_copied_ids(moved):
    clinic, report, _ = moved
    server = _server(clinic)
    try:
        before = audit_head(server.conn)
        largest = max(int(str(r["id"])) for r in server.rows("indications"))
        with server.write(SYSTEM) as w:
            new_id = indication_rows.insert_indication(w, "Moved-in check", Category.OTHER,
                                                       None, w.now)
        assert new_id == largest + 1
        after = audit_head(server.conn)
        assert after.entry_id == before.entry_id + 1
        assert verify_store(server) == []  # the chain goes on from the file's head
    finally:
        server.close()


def test_a_database_that_holds_records_is_refused(source, moved, pg_clinic):
    clinic, _, _ = moved
    before = rows_per_table(clinic)
    with pytest.raises(MigrationRefused, match="already holds records"):
        migrate_from_file(source, None, clinic.conninfo(OWNER_LOGIN), CLOCK)
    assert rows_per_table(clinic) == before
    seeded = rows_per_table(pg_clinic)  # a new clinic's seed rows are records too
    with pytest.raises(MigrationRefused, match=r"already holds records \(.*indications"):
        migrate_from_file(source, None, pg_clinic.conninfo(OWNER_LOGIN), CLOCK)
    assert rows_per_table(pg_clinic) == seeded


def test_a_file_that_does_not_verify_is_refused(source, pg_roles):
    conn = sqlite3.connect(source)
    conn.execute("UPDATE patients SET family_name = 'Nobody' WHERE id = 1")
    conn.commit()
    conn.close()
    clinic = empty_database(pg_roles)
    with pytest.raises(MigrationRefused, match="did not verify.*patients .*family_name"):
        migrate_from_file(source, None, clinic.conninfo(OWNER_LOGIN), CLOCK)
    assert set(rows_per_table(clinic).values()) == {0}


def test_a_workstation_login_may_not_move_a_file_in(source, pg_roles):
    clinic = empty_database(pg_roles)
    with pytest.raises(MigrationRefused, match="owner role"):
        migrate_from_file(source, None, clinic.conninfo(WORKSTATION_LOGIN), CLOCK)
    assert set(rows_per_table(clinic).values()) == {0}


def test_a_refusal_midway_leaves_the_database_empty(source, pg_roles):
    """A row the file holds but the server cannot (text with a NUL character), put in
    with raw sqlite3 and chained like any audit entry, so the file still verifies: every
    other table is copied first, then the audit log fails, and nothing stays."""
    conn = sqlite3.connect(source)
    AuditChain(conn).append(at="2026-11-24T13:59:00.000Z", user_id=None, username="system",
                            action="note", reason="hostile\x00text")
    conn.commit()
    conn.close()
    check = open_for_verify(source, CLOCK)
    try:
        assert verify_store(check) == []
    finally:
        check.close()
    clinic = empty_database(pg_roles)
    phases: list[tuple[str, int, int]] = []
    with pytest.raises(StoreError) as refused:
        migrate_from_file(source, None, clinic.conninfo(OWNER_LOGIN), CLOCK,
                          lambda phase, done, total: phases.append((phase, done, total)))
    assert not isinstance(refused.value, MigrationRefused)
    assert "NUL" in str(refused.value) or "0x00" in str(refused.value)
    finished = {p[0] for p in phases if p[0].startswith("copy ") and p[1] == p[2]}
    assert {"copy vitals", "copy sessions", "copy signatures"} <= finished
    assert "copy audit_log" not in finished
    assert set(rows_per_table(clinic).values()) == {0}  # all or nothing
    server = _server(clinic)
    try:
        assert server.count("sessions") == 0 and audit_head(server.conn).entry_id == 0
    finally:
        server.close()
