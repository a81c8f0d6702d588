"""`ketalog server backup|backups` run as an administrator runs them (a process of its
own), against a clinic database on the test server, with a password in the address that
must never be printed."""

from __future__ import annotations

import pytest

from ketalog.services.auth import bootstrap_admin
from ketalog.services.database import open_server_database
from tests.cli.test_server_cli import address, ketalog
from tests.pg_clinic import WORKSTATION_LOGIN

pytest.importorskip("psycopg", reason="psycopg is not installed")


@pytest.fixture
def clinic(pg_clinic, clock):
    store = open_server_database(pg_clinic.conninfo(WORKSTATION_LOGIN), clock)
    try:
        bootstrap_admin(store, clock, "admin", "admin-pass-1", "Ada Admin", "Server Clinic")
    finally:
        store.close()
    return pg_clinic


def test_backup_then_list(clinic, tmp_path):
    db = address(clinic.server, clinic.name)
    folder = tmp_path / "dumps"
    done = ketalog("server", "backup", "--to", str(folder), db=db, tmp=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "verified" in done.stdout and str(folder) in done.stdout
    [dump] = list(folder.iterdir())
    assert dump.name.startswith(f"{clinic.name}-") and dump.suffix == ".dump"
    listed = ketalog("server", "backups", "--to", str(folder), db=db, tmp=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert dump.name in listed.stdout and f"{dump.stat().st_size} bytes" in listed.stdout


def test_default_folder_is_the_data_folders_server_backups(clinic, tmp_path):
    db = address(clinic.server, clinic.name)
    done = ketalog("server", "backup", db=db, tmp=tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(list((tmp_path / "data" / "ketalog" / "backups" / "server").iterdir())) == 1


def test_missing_pg_dump_names_what_to_install(clinic, tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    done = ketalog("server", "backup", "--to", str(tmp_path / "dumps"),
                   db=address(clinic.server, clinic.name), tmp=tmp_path,
                   env={"KETALOG_PG_BINDIR": str(empty)})
    assert done.returncode != 0
    assert "pg_dump was not found" in done.stderr and "postgresql-client" in done.stderr


def test_a_tampered_server_is_refused(clinic, tmp_path):
    with clinic.owner(autocommit=True) as conn:
        conn.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
        conn.execute("UPDATE audit_log SET username = 'x' WHERE id = (SELECT max(id) "
                     "FROM audit_log)")
        conn.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")
    folder = tmp_path / "dumps"
    done = ketalog("server", "backup", "--to", str(folder),
                   db=address(clinic.server, clinic.name), tmp=tmp_path)
    assert done.returncode != 0
    assert "did not verify and was removed" in done.stderr
    assert list(folder.iterdir()) == []


