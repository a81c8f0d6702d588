"""Opening a file: new databases are created with the full schema and durable pragmas,
old ones are copied aside and migrated, foreign files are refused untouched."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from ketalog.store.connection import open_store
from ketalog.store.errors import EmptyDatabase, NotKetalogDatabase
from ketalog.store.schema import CLINICAL_TABLES, migrations, protection_triggers
from ketalog.store.verify import verify_store

pytestmark = [pytest.mark.both_engines, pytest.mark.sqlite_only(
    "the SQLite file's migrations, PRAGMAs and file classification (the server's schema steps are tests/store/test_pg_schema.py's)")]

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "schema_m001.sqlite"
ALL_MIGRATIONS = ["m001_core", "m002_protection", "m003_indexes", "m004_series",
                  "m005_device_feed", "m006_access", "m007_scale_indexes",
                  "m008_record", "m009_bedside", "m010_monitors", "m011_trust", "m012_stock"]
EXPECTED_TABLES = {*CLINICAL_TABLES, "clinic_settings", "users", "user_roles", "audit_log",
                   "device_messages", "emergency_access", "user_keys", "_sqlite_migrations"}
OLD_ROW_TABLES = ("users", "user_roles", "patients", "sessions", "vitals", "audit_log")


def names(conn: sqlite3.Connection, kind: str) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = ?", [kind])}


def rows(conn: sqlite3.Connection, table: str,
         columns: list[str] | None = None) -> list[tuple[object, ...]]:
    """The rows, as the old schema's columns (later steps may add columns)."""
    wanted = ", ".join(columns) if columns else "*"
    return conn.execute(f"SELECT {wanted} FROM {table} ORDER BY rowid").fetchall()


def column_names(conn: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]


def test_new_database_gets_full_schema_and_durable_pragmas(tmp_path, clock):
    store = open_store(tmp_path / "new.db", clock)
    try:
        assert [m.name for m in migrations.applied(store.engine.db)] == ALL_MIGRATIONS
        assert migrations.pending(store.engine.db) == []
        assert EXPECTED_TABLES <= names(store.conn, "table")
        assert set(protection_triggers()) <= names(store.conn, "trigger")
        assert "idx_vitals_session_at" in names(store.conn, "index")
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 2
        assert verify_store(store) == []
    finally:
        store.close()
    assert not list(tmp_path.glob("*.pre-migrate-*"))  # nothing to preserve in a new file


def test_fixture_holds_only_the_first_migration():
    conn = sqlite3.connect(f"file:{FIXTURE}?mode=ro", uri=True)
    try:
        assert [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations")] == [
            "m001_core"]
        assert names(conn, "trigger") == set()
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        conn.close()


def test_old_schema_is_copied_aside_then_migrated(tmp_path, clock):
    path = tmp_path / "clinic.db"
    shutil.copyfile(FIXTURE, path)
    conn = sqlite3.connect(f"file:{FIXTURE}?mode=ro", uri=True)
    old = {t: rows(conn, t) for t in OLD_ROW_TABLES}
    old_columns = {t: column_names(conn, t) for t in OLD_ROW_TABLES}
    conn.close()

    store = open_store(path, clock)
    try:
        assert [m.name for m in migrations.applied(store.engine.db)] == ALL_MIGRATIONS
        now = {t: rows(store.conn, t, old_columns[t]) for t in OLD_ROW_TABLES}
        # the coded-indications step records the indications it seeds, the patient it
        # mapped and the unmapped list, and the roles this hand-made old file holds without
        # an audit entry; the allergies step its entries from the free text (this file holds
        # no signature, so the signing-keys step has no unkeyed era to mark)
        added = [(r[4], r[5]) for r in now["audit_log"][len(old["audit_log"]):]]
        seeded = [a for a in added if a == ("insert", "indications")]
        assert len(seeded) >= 10
        assert added == [*seeded, ("update", "patients"), ("update", "clinic_settings"),
                         ("update", "user_roles"), ("insert", "allergies")]
        now["audit_log"] = now["audit_log"][:len(old["audit_log"])]
        assert now == old
        assert [r[0] for r in store.conn.execute("SELECT DISTINCT series_id FROM sessions")] \
            == [None]  # old sessions belong to no series; their signatures still verify
        assert set(protection_triggers()) <= store.trigger_names()
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.get_by("patients", mrn="OLD-0001")["family_name"] == "Legacy"
        assert store.count("vitals", session_id=1) == 2
        assert verify_store(store) == []
    finally:
        store.close()

    copies = list(tmp_path.glob("clinic.db.pre-migrate-*"))
    assert [c.name for c in copies] == ["clinic.db.pre-migrate-20261124T140000"]
    backup = sqlite3.connect(f"file:{copies[0]}?mode=ro", uri=True)
    try:
        assert [r[0] for r in backup.execute("SELECT name FROM _sqlite_migrations")] == [
            "m001_core"]
        assert names(backup, "trigger") == set()
        assert {t: rows(backup, t) for t in OLD_ROW_TABLES} == old
    finally:
        backup.close()


def test_reopening_a_current_database_makes_no_copy(tmp_path, clock):
    open_store(tmp_path / "k.db", clock).close()
    open_store(tmp_path / "k.db", clock).close()
    assert not list(tmp_path.glob("*.pre-migrate-*"))


def test_foreign_sqlite_file_is_refused_and_left_untouched(tmp_path, clock):
    path = tmp_path / "photos.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE album (id INTEGER PRIMARY KEY, title TEXT)")
    conn.execute("INSERT INTO album (title) VALUES ('holiday')")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(NotKetalogDatabase, match="not a ketalog database"):
        open_store(path, clock)
    assert path.read_bytes() == before  # not even switched to WAL
    assert not list(tmp_path.glob("photos.db.pre-migrate-*"))


@pytest.mark.parametrize("content", [
    b"Dear diary,\nthis is not a database.\n",
    b"SQLite format 3\x00" + b"\xff" * 2000,  # right header, garbage after it
])
def test_non_database_files_are_refused(tmp_path, clock, content):
    path = tmp_path / "notes.db"
    path.write_bytes(content)
    with pytest.raises(NotKetalogDatabase) as info:
        open_store(path, clock)
    assert str(path) in str(info.value)
    assert "Traceback" not in str(info.value)
    assert path.read_bytes() == content


def test_empty_file_is_refused_never_a_new_clinic(tmp_path, clock):
    path = tmp_path / "empty.db"
    path.touch()
    with pytest.raises(EmptyDatabase, match="empty .0 bytes.*restore a backup"):
        open_store(path, clock)
    assert path.read_bytes() == b""  # no schema written into it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]


def test_device_feed_migration_on_old_file_keeps_triggers_and_adds_ledger(tmp_path, clock):
    path = tmp_path / "old.db"
    shutil.copyfile(FIXTURE, path)
    store = open_store(path, clock)
    try:
        assert "device_messages" in names(store.conn, "table")
        assert {"idx_device_messages_status", "idx_sessions_status"} <= names(store.conn, "index")
        assert set(protection_triggers()) <= store.trigger_names()
        with pytest.raises(sqlite3.IntegrityError):  # the status is checked by the schema
            store.conn.execute(
                "INSERT INTO device_messages (uuid, received_at, raw_sha256, status, ack_code) "
                "VALUES ('u', 'now', 'h', 'lost', 'AA')")
        assert verify_store(store) == []
    finally:
        store.close()


def test_scale_indexes_on_old_file_serve_the_screens(tmp_path, clock):
    """m007 on a file of the previous schema: the today board, the Planned tab and the
    protocol-in-use count search an index instead of scanning sessions or series."""
    path = tmp_path / "old.db"
    shutil.copyfile(FIXTURE, path)
    store = open_store(path, clock)
    try:
        assert {"idx_sessions_began", "idx_series_next", "idx_sessions_protocol"} <= names(
            store.conn, "index")
        plan = " ".join(r[3] for r in store.conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM sessions "
            "WHERE coalesce(infusion_start_at, created_at) >= '2026-01-01'"))
        assert "idx_sessions_began" in plan
        assert verify_store(store) == []
    finally:
        store.close()


def test_monitors_migration_keeps_ledger_rows_and_triggers(tmp_path, clock):
    """m010 on a file migrated up to m007 with a message in the ledger: the row keeps its
    values and gets the new columns' defaults; the protection triggers stay."""
    from sqlite_utils import Database

    path = tmp_path / "m007.db"
    shutil.copyfile(FIXTURE, path)
    db = Database(path)
    migrations.apply(db, stop_before="m010_monitors")
    db.execute("INSERT INTO device_messages (uuid, received_at, sending_app, raw_sha256, "
               "status, ack_code, reason) VALUES ('u1', '2026-11-24T13:00:00+00:00', 'GW', "
               "'h1', 'quarantined', 'AE', 'no open session')")
    db.conn.commit()
    db.close()
    store = open_store(path, clock)
    try:
        assert [m.name for m in migrations.applied(store.engine.db)] == ALL_MIGRATIONS
        row = store.conn.execute(
            "SELECT sending_app, reason, source, device_id, refused, other_channels, "
            "unknown_codes, clock_ahead_s, part_of FROM device_messages").fetchone()
        assert row == ("GW", "no open session", "", "", "[]", "[]", "[]", None, None)
        assert "idx_device_messages_source" in names(store.conn, "index")
        assert set(protection_triggers()) <= store.trigger_names()
        assert verify_store(store) == []
    finally:
        store.close()
