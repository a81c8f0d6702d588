"""`verify` of a clinic server's database, as the command runs it (services.integrity on
a store opened through services.database): sound on a new clinic with records, and the
tampering of an owner who switched a trigger off is found."""

from __future__ import annotations

from datetime import date

import pytest

from ketalog.services.auth import bootstrap_admin, login
from ketalog.services.database import open_server_database
from ketalog.services.integrity import verify_database
from ketalog.services.patients import PatientInput, create_patient
from tests.pg_clinic import WORKSTATION_LOGIN

psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed")


def test_a_server_verifies_and_tampering_is_found(pg_clinic, clock):
    store = open_server_database(pg_clinic.conninfo(WORKSTATION_LOGIN), clock)
    try:
        bootstrap_admin(store, clock, "admin", "admin-pass-1", "Ada Admin", "Server Clinic")
        admin = login(store, clock, "admin", "admin-pass-1")
        create_patient(admin, PatientInput("V1", "Verify", "Vera", date(1970, 1, 1)))
        report = verify_database(store)
        assert report.problems == [], report.problems
        with pg_clinic.owner(autocommit=True) as conn:
            conn.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
            conn.execute("UPDATE audit_log SET username = 'someone else' WHERE id = "
                         "(SELECT max(id) FROM audit_log)")
        report = verify_database(store)
        assert any("audit log entry" in p for p in report.problems), report.problems
        assert any("trigger" in p for p in report.problems), report.problems
    finally:
        store.close()


def test_a_workstations_anchor_finds_a_hidden_tail_on_the_server(pg_clinic, clock):
    """From the server owner's side: the chain's newest entries deleted with the
    triggers off, so the chain left is whole. The head this workstation wrote down at a
    login is no longer in it, and verify says so."""
    from ketalog.services.anchors import anchor_log_path, read_anchors

    store = open_server_database(pg_clinic.conninfo(WORKSTATION_LOGIN), clock)
    try:
        bootstrap_admin(store, clock, "admin", "admin-pass-1", "Ada Admin", "Server Clinic")
        admin = login(store, clock, "admin", "admin-pass-1")
        create_patient(admin, PatientInput("T1", "Tail", "Tom", date(1970, 1, 1)))
        login(store, clock, "admin", "admin-pass-1")  # writes this workstation's anchor
        anchors = read_anchors(anchor_log_path(store))
        assert anchors and "server-anchors" in str(anchor_log_path(store))
        assert verify_database(store).problems == []
        with pg_clinic.owner(autocommit=True) as conn:
            conn.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
            conn.execute("DELETE FROM audit_log WHERE id > (SELECT max(id) - 3 FROM audit_log)")
            conn.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")
        problems = verify_database(store).problems
        assert any("anchor" in p or "no longer" in p for p in problems), problems
    finally:
        store.close()
