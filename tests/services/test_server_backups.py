"""`ketalog server backup` as a use case, on the real test server: a dump verified in a
scratch restore, listed, rotated and audited; a tampered server's dump refused and
removed; no scratch database left behind."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ketalog.domain.clock import FixedClock
from ketalog.domain.retention import Retention
from ketalog.services.auth import bootstrap_admin
from ketalog.services.database import open_server_database
from ketalog.services.errors import ServiceError
from ketalog.services.server_backups import back_up_server, list_server_backups
from ketalog.store.errors import StoreError
from ketalog.store.pg_backup import BINDIR_ENV, find_tool
from tests.pg_clinic import WORKSTATION_LOGIN

psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed")
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def databases(clinic) -> set[str]:
    with psycopg.connect(clinic.server.conninfo(), autocommit=True) as conn:
        return {str(r[0]) for r in conn.execute("SELECT datname FROM pg_database")}


@pytest.fixture
def staffed(pg_clinic, clock):
    store = open_server_database(pg_clinic.conninfo(WORKSTATION_LOGIN), clock)
    try:
        bootstrap_admin(store, clock, "admin", "admin-pass-1", "Ada Admin", "Server Clinic")
    finally:
        store.close()
    return pg_clinic


def backup_events(clinic) -> list[tuple[str, str]]:
    with clinic.connect() as conn:
        return [(str(r[0]), str(r[1])) for r in conn.execute(
            "SELECT username, new_values FROM audit_log WHERE action = 'backup' ORDER BY id")]


def test_a_backup_is_made_verified_listed_and_audited(staffed, tmp_path):
    before = databases(staffed)
    folder = tmp_path / "server-backups"
    done = back_up_server(staffed.conninfo(), folder, FixedClock(NOW))
    assert done.path == folder / f"{staffed.name}-20261207-100000.dump"
    assert done.path.is_file() and done.size_bytes == done.path.stat().st_size > 0
    assert stat.S_IMODE(done.path.stat().st_mode) == 0o600
    assert done.audit_entries > 0 and done.rotated_out == ()
    assert [p.name for p in folder.iterdir()] == [done.path.name]  # no partial file left
    assert databases(staffed) == before  # the scratch database was dropped
    listed = list_server_backups(staffed.conninfo(), folder)
    assert [(b.path, b.taken_at) for b in listed] == [(done.path, NOW)]
    events = backup_events(staffed)
    assert len(events) == 1 and events[0][0] == "postgres"
    assert done.path.name in events[0][1] and '"why": "server"' in events[0][1]


def test_backups_are_rotated_by_the_file_backups_rule(staffed, tmp_path):
    folder = tmp_path / "b"
    rule = Retention(daily=2, weekly=0, monthly=0, recent_hours=0)
    made = [back_up_server(staffed.conninfo(), folder, FixedClock(NOW + timedelta(days=d)),
                           rule) for d in range(3)]
    assert made[2].rotated_out == (made[0].path,)
    names = [b.path.name for b in list_server_backups(staffed.conninfo(), folder)]
    assert names == [made[2].path.name, made[1].path.name]
    (folder / "notes.txt").write_text("not ours")
    (folder / "other_db-20200101-000000.dump").write_text("not ours either")
    back_up_server(staffed.conninfo(), folder, FixedClock(NOW + timedelta(days=3)), rule)
    assert (folder / "notes.txt").exists()
    assert (folder / "other_db-20200101-000000.dump").exists()


def test_a_tampered_server_gives_a_backup_that_is_refused_and_removed(staffed, tmp_path):
    with staffed.owner(autocommit=True) as conn:
        conn.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
        conn.execute("UPDATE audit_log SET username = 'someone else' WHERE id = "
                     "(SELECT max(id) FROM audit_log)")
        conn.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")
    before = databases(staffed)
    folder = tmp_path / "b"
    with pytest.raises(ServiceError, match="did not verify and was removed") as caught:
        back_up_server(staffed.conninfo(), folder, FixedClock(NOW))
    assert "audit log entry" in str(caught.value)
    assert list(folder.iterdir()) == []
    assert databases(staffed) == before
    assert backup_events(staffed) == []


def test_a_login_that_may_not_create_databases_is_told_so(staffed, tmp_path):
    folder = tmp_path / "b"
    with pytest.raises(StoreError, match="may create databases"):
        back_up_server(staffed.conninfo(WORKSTATION_LOGIN), folder, FixedClock(NOW))
    assert list(folder.iterdir()) == []


def test_missing_tools_name_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv(BINDIR_ENV, str(tmp_path))
    with pytest.raises(StoreError, match="pg_dump was not found") as caught:
        find_tool("pg_dump")
    assert "postgresql-client" in str(caught.value)
    monkeypatch.delenv(BINDIR_ENV)
    assert Path(find_tool("pg_restore")).is_file()
    assert os.access(find_tool("pg_dump"), os.X_OK)


def test_the_password_reaches_the_tools_through_their_environment_only():
    from ketalog.store.pg_backup import _tool_address

    address, env = _tool_address("postgresql://postgres:s3cret-pw@db.example/clinic")
    assert "s3cret-pw" not in address and "dbname=clinic" in address
    assert env["PGPASSWORD"] == "s3cret-pw"


def test_a_scratch_restore_that_fails_leaves_no_database(staffed, tmp_path):
    from ketalog.store.pg_backup import scratch_restore

    before = databases(staffed)
    garbage = tmp_path / "x.dump"
    garbage.write_bytes(b"not a dump")
    with pytest.raises(StoreError, match="pg_restore of x.dump failed"), \
            scratch_restore(staffed.conninfo(), garbage):
        pytest.fail("a garbage dump restored")
    assert databases(staffed) == before
