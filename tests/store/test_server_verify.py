"""`verify` on a clinic server: the workstation's role cannot change the records outside
ketalog, but the clinic's owner role can; verify finds what it changed as it does on a
file: rows against their audit history, the audit chain, missing protection triggers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ketalog.domain.clock import FixedClock
from ketalog.store.pg_connection import open_server_store
from ketalog.store.verify import verify_store
from tests.pg_clinic import WORKSTATION_LOGIN, copy_of

from .helpers import build_signed_session

pytest.importorskip("psycopg", reason="psycopg is not installed")


@pytest.fixture(scope="module")
def signed_clinic(pg_template):
    clinic = copy_of(pg_template)
    clock = FixedClock(datetime(2026, 11, 24, 14, 0, tzinfo=UTC))
    store = open_server_store(clinic.conninfo(WORKSTATION_LOGIN), clock)
    try:
        built = build_signed_session(store, clock)
    finally:
        store.close()
    return clinic, built


@pytest.fixture
def clinic(signed_clinic, clock):
    template, built = signed_clinic
    mine = copy_of(template)
    store = open_server_store(mine.conninfo(WORKSTATION_LOGIN), clock)
    yield mine, store, built
    store.close()


def test_a_sound_clinic_database_verifies_clean(clinic):
    _, store, _ = clinic
    phases: list[str] = []
    assert verify_store(store, lambda phase, *_: phases.append(phase)) == []
    assert "rows against history" in phases and "signature keys" in phases


def test_a_row_changed_by_the_owner_differs_from_its_history(clinic):
    mine, store, built = clinic
    with mine.owner(autocommit=True) as owner:
        owner.execute("UPDATE patients SET family_name = 'Changed' WHERE id = %s",
                      [built.patient_id])
        (uuid,) = owner.execute("SELECT uuid FROM patients WHERE id = %s",
                                [built.patient_id]).fetchone()
    assert (f"patients {uuid}: family_name differs from its audit history (changed outside "
            "ketalog)") in verify_store(store)


def test_an_audit_entry_edited_by_the_owner_breaks_the_chain(clinic):
    mine, store, _ = clinic
    with mine.owner(autocommit=True) as owner:
        owner.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
        (target,) = owner.execute("SELECT min(id) FROM audit_log WHERE table_name = 'vitals'"
                                  ).fetchone()
        owner.execute("UPDATE audit_log SET new_values = '{\"sbp_mmhg\": 99}' WHERE id = %s",
                      [target])
        owner.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")
    problems = verify_store(store)
    assert f"audit log entry {target}: content does not match its hash (entry edited)" in problems


def test_a_dropped_protection_trigger_and_a_changed_signed_vital_are_found(clinic):
    mine, store, built = clinic
    with mine.owner(autocommit=True) as owner:
        owner.execute("DROP TRIGGER vitals_locked_update ON vitals")
        owner.execute("UPDATE vitals SET sbp_mmhg = 118 WHERE id = (SELECT min(id) FROM "
                      "vitals WHERE session_id = %s)", [built.session_id])
    problems = verify_store(store)
    assert any("protection triggers missing" in p and "vitals_locked_update" in p
               for p in problems)
    assert (f"session {built.session_id}: content no longer matches its signature "
            "(changed after signing)") in problems
