"""A signed session cannot be changed, not even with raw SQL; tampering that gets past
the triggers (by dropping them) is found by verify."""

from __future__ import annotations

import dataclasses
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ketalog.domain.clock import FixedClock
from ketalog.services import sessions
from ketalog.services.errors import InvalidState
from ketalog.store.connection import open_store
from ketalog.store.schema import APPEND_ONLY_TABLES, LOCKED_MESSAGE, SESSION_CHILD_TABLES
from ketalog.store.store import Store
from ketalog.store.verify import verify_store

from .helpers import (
    SignedSession,
    Staff,
    build_signed_session,
    dump,
    raw_connect,
    start_patient_session,
)

ALL_TABLES = ("sessions", *SESSION_CHILD_TABLES, *APPEND_ONLY_TABLES, "follow_ups")
RAW = ("attacks the file with raw sqlite3 (the clinic server's triggers and grants are "
       "attacked in tests/store/test_pg_schema.py)")

pytestmark = pytest.mark.both_engines


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> tuple[Path, SignedSession, datetime]:
    """Built once (argon2 is slow); each test gets its own copy of the file."""
    path = tmp_path_factory.mktemp("template") / "signed.db"
    template_clock = FixedClock(datetime(2026, 11, 24, 14, 0, tzinfo=UTC))
    template_store = open_store(path, template_clock)
    built = build_signed_session(template_store, template_clock)
    template_store.close()  # last connection: checkpoints the WAL into the file
    return path, built, template_clock.now()


@pytest.fixture(scope="module")
def pg_signed_template(pg_template):
    """The same signed session on a clinic database of the test server."""
    from ketalog.store.pg_connection import open_server_store
    from tests.pg_clinic import WORKSTATION_LOGIN, copy_of

    clinic = copy_of(pg_template)
    template_clock = FixedClock(datetime(2026, 11, 24, 14, 0, tzinfo=UTC))
    template_store = open_server_store(clinic.conninfo(WORKSTATION_LOGIN), template_clock)
    try:
        built = build_signed_session(template_store, template_clock)
    finally:
        template_store.close()
    return clinic, built, template_clock.now()


@pytest.fixture
def built(engine: str, request: pytest.FixtureRequest):
    """(the template, its signed session, the template's clock time) of the engine."""
    if engine == "postgresql":
        return request.getfixturevalue("pg_signed_template")
    return request.getfixturevalue("template")


@pytest.fixture
def store(tmp_path: Path, clock: FixedClock, engine: str, built) -> Iterator[Store]:
    origin, _, now = built
    clock.set(now)
    if engine == "postgresql":
        from ketalog.store.pg_connection import open_server_store
        from tests.pg_clinic import WORKSTATION_LOGIN, copy_of

        s = open_server_store(copy_of(origin).conninfo(WORKSTATION_LOGIN), clock)
    else:
        path = origin
        assert not path.with_name(path.name + "-wal").exists()
        shutil.copyfile(path, tmp_path / "ketalog.db")
        s = open_store(tmp_path / "ketalog.db", clock)
    yield s
    s.close()


@pytest.fixture
def signed(store: Store, clock: FixedClock, built) -> SignedSession:
    made: SignedSession = built[1]
    rebind = {name: dataclasses.replace(getattr(made.staff, name), store=store, clock=clock)
              for name in ("admin", "nurse", "provider")}
    return dataclasses.replace(made, staff=Staff(**rebind))


@pytest.fixture
def raw(store: Store) -> Iterator[sqlite3.Connection]:
    conn = raw_connect(store.path)
    yield conn
    conn.close()


def snapshot(conn: sqlite3.Connection) -> dict[str, list[tuple[object, ...]]]:
    return {t: dump(conn, t) for t in ALL_TABLES}


def copy_row_sql(conn: sqlite3.Connection, table: str, session_id: int | None = None) -> str:
    """INSERT ... SELECT that duplicates a row under a new uuid (and new id), optionally
    under another session."""
    cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})") if r[1] != "id"]
    replace = {"uuid": "lower(hex(randomblob(16)))"}
    if session_id is not None:
        replace["session_id"] = str(int(session_id))
    select = ", ".join(replace.get(c, c) for c in cols)
    return f"INSERT INTO {table} ({', '.join(cols)}) SELECT {select} FROM {table} WHERE id = ?"


def first_id(conn: sqlite3.Connection, table: str, session_id: int) -> int:
    row = conn.execute(f"SELECT min(id) FROM {table} WHERE session_id = ?",
                       [session_id]).fetchone()
    assert row[0] is not None, f"the signed session has no {table} row"
    return int(row[0])


def assert_refused(conn: sqlite3.Connection, sql: str, params: list[object],
                   message: str = LOCKED_MESSAGE) -> None:
    with pytest.raises(sqlite3.IntegrityError, match=message):
        conn.execute(sql, params)


@pytest.mark.sqlite_only(RAW)
def test_signed_session_row_cannot_be_updated_or_deleted(signed, raw):
    before = snapshot(raw)
    sid = signed.session_id
    assert_refused(raw, "UPDATE sessions SET chair = 'tampered' WHERE id = ?", [sid])
    assert_refused(raw, "UPDATE sessions SET status = 'completed' WHERE id = ?", [sid])
    assert_refused(raw, "DELETE FROM sessions WHERE id = ?", [sid])
    assert snapshot(raw) == before


@pytest.mark.sqlite_only(RAW)
@pytest.mark.parametrize("table", SESSION_CHILD_TABLES)
def test_signed_child_rows_are_locked(signed, raw, table):
    row_id = first_id(raw, table, signed.session_id)
    before = snapshot(raw)
    assert_refused(raw, f"UPDATE {table} SET entered_at = 'tampered' WHERE id = ?", [row_id])
    assert_refused(raw, f"UPDATE {table} SET session_id = session_id WHERE id = ?", [row_id])
    assert_refused(raw, f"DELETE FROM {table} WHERE id = ?", [row_id])
    assert_refused(raw, f"DELETE FROM {table} WHERE session_id = ?", [signed.session_id])
    assert_refused(raw, copy_row_sql(raw, table), [row_id])
    assert snapshot(raw) == before


@pytest.mark.sqlite_only(RAW)
@pytest.mark.parametrize("table", SESSION_CHILD_TABLES)
def test_same_raw_sql_works_on_an_unsigned_session(signed, raw, table):
    """Control: the refusals above come from the signature lock, not from bad SQL."""
    _, draft = start_patient_session(signed.staff, mrn="MRN-002")
    row_id = first_id(raw, table, signed.session_id)
    raw.execute(copy_row_sql(raw, table, session_id=draft), [row_id])
    new_id = raw.execute(f"SELECT max(id) FROM {table}").fetchone()[0]
    raw.execute(f"UPDATE {table} SET entered_at = 'edited' WHERE id = ?", [new_id])
    raw.execute(f"DELETE FROM {table} WHERE id = ?", [new_id])
    assert raw.execute(f"SELECT count(*) FROM {table} WHERE session_id = ?",
                       [draft]).fetchone()[0] == 0


@pytest.mark.sqlite_only(RAW)
def test_append_only_tables_refuse_update_and_delete(signed, raw):
    sessions.add_addendum(signed.staff.provider, signed.session_id, "typo",
                          "Escort was the patient's brother.")
    before = snapshot(raw)
    for table in APPEND_ONLY_TABLES:
        row_id = raw.execute(f"SELECT max(id) FROM {table}").fetchone()[0]
        assert row_id is not None
        column = "reason" if table != "signatures" else "meaning"
        assert_refused(raw, f"UPDATE {table} SET {column} = 'x' WHERE id = ?", [row_id],
                       f"{table} is append-only")
        assert_refused(raw, f"DELETE FROM {table} WHERE id = ?", [row_id],
                       f"{table} is append-only")
    assert snapshot(raw) == before


@pytest.mark.sqlite_only(RAW)
def test_addenda_and_follow_ups_still_allowed_after_signing(signed, store, raw):
    provider, nurse = signed.staff.provider, signed.staff.nurse
    sid = signed.session_id
    addendum = sessions.add_addendum(provider, sid, "correction", "Bag lot was L124.")
    follow_up = sessions.add_follow_up(nurse, sid, nrs=2, relief_hours=48.0)
    assert raw.execute("SELECT text FROM addenda WHERE id = ?", [addendum]).fetchone() == (
        "Bag lot was L124.",)
    assert raw.execute("SELECT nrs FROM follow_ups WHERE id = ?", [follow_up]).fetchone() == (2,)
    assert store.get("sessions", sid)["status"] == "signed"
    assert verify_store(store) == []  # follow-ups and addenda are outside the signature


def test_services_refuse_entries_on_a_signed_session(signed, store):
    count = store.count("vitals")
    with pytest.raises(InvalidState, match="signed"):
        sessions.record_vitals(signed.staff.nurse, signed.session_id,
                               {"sbp_mmhg": 120, "dbp_mmhg": 80})
    with pytest.raises(InvalidState, match="signed"):
        sessions.add_note(signed.staff.nurse, signed.session_id, "late note")
    assert store.count("vitals") == count


def test_sound_database_verifies_clean(signed, store):
    assert verify_store(store) == []


def drop_triggers(conn: sqlite3.Connection, *names: str) -> None:
    for name in names:
        conn.execute(f"DROP TRIGGER {name}")


@pytest.mark.sqlite_only(RAW)
def test_verify_finds_an_edited_audit_entry(signed, store, raw):
    drop_triggers(raw, "audit_log_append_only_update", "audit_log_append_only_delete")
    target = raw.execute("SELECT id FROM audit_log WHERE table_name = 'vitals' "
                         "ORDER BY id LIMIT 1").fetchone()[0]
    raw.execute("UPDATE audit_log SET new_values = '{\"sbp_mmhg\": 99}' WHERE id = ?",
                [target])
    problems = verify_store(store)
    assert f"audit log entry {target}: content does not match its hash (entry edited)" in problems
    assert any("audit_log_append_only_update" in p for p in problems)


@pytest.mark.sqlite_only(RAW)
def test_verify_finds_a_deleted_audit_entry(signed, store, raw):
    drop_triggers(raw, "audit_log_append_only_delete")
    last = raw.execute("SELECT max(id) FROM audit_log").fetchone()[0]
    middle = last // 2
    raw.execute("DELETE FROM audit_log WHERE id = ?", [middle])
    problems = verify_store(store)
    assert f"audit log: entries {middle}-{middle} are missing" in problems
    assert any(p.startswith(f"audit log entry {middle + 1}: previous-hash link broken")
               for p in problems)


@pytest.mark.sqlite_only(RAW)
def test_verify_finds_a_changed_signed_vital(signed, store, raw):
    drop_triggers(raw, "vitals_locked_update")
    vid = first_id(raw, "vitals", signed.session_id)
    raw.execute("UPDATE vitals SET sbp_mmhg = 118 WHERE id = ?", [vid])
    problems = verify_store(store)
    assert any("protection triggers missing" in p and "vitals_locked_update" in p
               for p in problems)
    assert (f"session {signed.session_id}: content no longer matches its signature "
            "(changed after signing)") in problems
