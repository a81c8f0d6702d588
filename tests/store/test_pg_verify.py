"""verify on a clinic server (store/pg_verify.py and the engine-neutral checks), from the
attacker's side: the owner of the database can disable a trigger, change a signed
session's row or an audit entry, grant the workstations more, or replace a trigger's
code; verify, run from a workstation, finds each of them."""

from __future__ import annotations

import psycopg
import pytest

from ketalog.domain.clock import FixedClock
from ketalog.store import pg_schema
from ketalog.store import sessions as sessions_store
from ketalog.store.pg_connection import open_server_store
from ketalog.store.pg_migrate import migrate_from_file
from ketalog.store.pg_verify import expected_definition, expected_functions
from ketalog.store.verify import verify_store
from tests.pg_clinic import OWNER_LOGIN, WORKSTATION_LOGIN, Clinic
from tests.pg_migration import NOW, copy_when_idle, demo_file, empty_database

CLOCK = FixedClock(NOW)


@pytest.fixture(scope="module")
def moved_demo(tmp_path_factory, pg_roles) -> Clinic:
    """The demo clinic moved to a database nobody stays connected to (tests copy it)."""
    path, _ = demo_file(tmp_path_factory.mktemp("demo"))
    clinic = empty_database(pg_roles)
    assert migrate_from_file(path, None, clinic.conninfo(OWNER_LOGIN), CLOCK).sound
    return clinic


@pytest.fixture
def demo_server(moved_demo) -> Clinic:
    return copy_when_idle(moved_demo)


def _verify(clinic: Clinic) -> list[str]:
    store = open_server_store(clinic.conninfo(WORKSTATION_LOGIN), CLOCK)
    try:
        return verify_store(store)
    finally:
        store.close()


def _as_owner(clinic: Clinic, *statements: str) -> None:
    with clinic.owner(autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def _signed_vitals_row(clinic: Clinic) -> tuple[int, int, str]:
    store = open_server_store(clinic.conninfo(WORKSTATION_LOGIN), CLOCK)
    try:
        session_id = sessions_store.signed_ids(store)[0]
        row = store.rows("vitals", order_by="id", session_id=session_id)[0]
        return session_id, int(str(row["id"])), str(row["uuid"])
    finally:
        store.close()


@pytest.mark.both_engines
def test_a_new_database_verifies(store):
    assert verify_store(store) == []


def test_the_definitions_are_the_servers_own_words():
    triggers = pg_schema.triggers()
    assert expected_definition(triggers["sessions_locked_update"], "public") == (
        "CREATE TRIGGER sessions_locked_update BEFORE UPDATE ON public.sessions FOR EACH ROW "
        "WHEN ((old.status = 'signed'::text)) EXECUTE FUNCTION ketalog_refuse('record is "
        "locked: the session is signed; add an addendum instead')")
    assert "WHEN (((new.location_id IS DISTINCT FROM old.location_id) OR (new.product" in (
        expected_definition(triggers["stock_lots_fixed"], "public"))
    assert set(expected_functions()) == {"ketalog_refuse", "ketalog_session_locked",
                                         "ketalog_truncate_locked"}


def test_a_signed_row_changed_with_its_trigger_disabled_is_found(demo_server):
    session_id, vitals_id, vitals_uuid = _signed_vitals_row(demo_server)
    _as_owner(demo_server, "ALTER TABLE vitals DISABLE TRIGGER vitals_locked_update",
              f"UPDATE vitals SET hr_bpm = hr_bpm + 40 WHERE id = {vitals_id}")
    problems = _verify(demo_server)
    assert "protection triggers disabled (records could be changed): vitals_locked_update" \
        in problems
    assert (f"session {session_id}: content no longer matches its signature (changed after "
            "signing)") in problems
    assert (f"vitals {vitals_uuid}: hr_bpm differs from its audit history (changed outside "
            "ketalog)") in problems
    _as_owner(demo_server, "ALTER TABLE vitals ENABLE TRIGGER vitals_locked_update")
    again = _verify(demo_server)  # the trigger back on hides nothing
    assert not any("disabled" in p for p in again)
    assert f"session {session_id}: content no longer matches its signature (changed after " \
           "signing)" in again


def test_an_audit_entry_edited_with_the_triggers_disabled_is_found(demo_server):
    _as_owner(demo_server, "ALTER TABLE audit_log DISABLE TRIGGER USER",
              "UPDATE audit_log SET reason = 'nothing happened' WHERE id = 100",
              "DELETE FROM audit_log WHERE id = 200",
              "ALTER TABLE audit_log ENABLE TRIGGER USER")
    problems = _verify(demo_server)
    assert "audit log entry 100: content does not match its hash (entry edited)" in problems
    assert "audit log: entries 200-200 are missing" in problems


def test_a_signed_session_unsigned_by_the_owner_is_found(demo_server):
    session_id, _, _ = _signed_vitals_row(demo_server)
    _as_owner(demo_server, "ALTER TABLE sessions DISABLE TRIGGER sessions_locked_update",
              f"UPDATE sessions SET status = 'completed' WHERE id = {session_id}",
              "ALTER TABLE sessions ENABLE TRIGGER sessions_locked_update")
    problems = _verify(demo_server)
    assert (f"session {session_id} has a provider's signature but is marked completed "
            "(un-signed outside ketalog)") in problems


def test_the_owners_changes_to_the_catalog_are_found(pg_clinic):
    _as_owner(pg_clinic,
              f"GRANT UPDATE, DELETE ON audit_log TO {pg_schema.WORKSTATION_ROLE}",
              "GRANT SELECT ON users TO PUBLIC",
              f"REVOKE INSERT ON vitals FROM {pg_schema.WORKSTATION_ROLE}",
              "DROP TRIGGER sessions_locked_update ON sessions",
              "CREATE TRIGGER sessions_locked_update BEFORE UPDATE ON sessions FOR EACH ROW "
              "WHEN (OLD.status = 'never') EXECUTE FUNCTION ketalog_refuse('locked')",
              "DROP TRIGGER notes_locked_delete ON notes",
              "CREATE TRIGGER quiet BEFORE INSERT ON notes FOR EACH ROW "
              "EXECUTE FUNCTION ketalog_session_locked('old')",
              "CREATE OR REPLACE FUNCTION ketalog_refuse() RETURNS trigger LANGUAGE plpgsql "
              "AS $fn$ BEGIN RETURN NEW; END $fn$")
    problems = _verify(pg_clinic)
    assert ("audit_log: the role ketalog_workstation may DELETE, UPDATE (granted outside "
            "ketalog; the records could be changed)") in problems
    assert ("users: every database user may SELECT (granted outside ketalog; the records "
            "could be changed)") in problems
    assert "vitals: the role ketalog_workstation lacks INSERT (revoked outside ketalog)" \
        in problems
    assert ("protection triggers replaced by different code (they may no longer protect "
            "anything): sessions_locked_update") in problems
    assert "protection triggers missing (records could be changed): notes_locked_delete" \
        in problems
    assert "triggers ketalog never creates (added outside ketalog): quiet" in problems
    assert ("protection trigger functions replaced by different code (the triggers calling "
            "them may no longer protect anything): ketalog_refuse") in problems


def test_verify_writes_nothing_on_the_server(pg_clinic):
    with psycopg.connect(pg_clinic.server.conninfo(pg_clinic.name)) as conn:
        before = conn.execute("SELECT count(*) FROM audit_log").fetchone()
    assert _verify(pg_clinic) == []
    with psycopg.connect(pg_clinic.server.conninfo(pg_clinic.name)) as conn:
        assert conn.execute("SELECT count(*) FROM audit_log").fetchone() == before
