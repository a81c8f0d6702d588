"""`ketalog migrate-to-server FILE --db postgresql://...` and the service behind it: the
file's admin authorises the move; a line per table on stderr, the summary on stdout."""

from __future__ import annotations

import pytest

from ketalog.cli import main
from ketalog.services.errors import LoginFailed, PermissionDenied, ServiceError
from ketalog.services.server_migration import migrate_to_server
from tests.pg_clinic import OWNER_LOGIN
from tests.pg_migration import demo_file, empty_database, rows_per_table


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return demo_file(tmp_path_factory.mktemp("demo"))


@pytest.fixture
def env(monkeypatch, demo):
    monkeypatch.setenv("KETALOG_PASSWORD", demo[1].passwords["admin"])
    monkeypatch.delenv("KETALOG_USER", raising=False)
    monkeypatch.delenv("KETALOG_DB", raising=False)


def test_the_command_moves_the_file_and_says_what_it_checked(demo, env, pg_roles, clock,
                                                             capsys):
    clinic = empty_database(pg_roles)
    code = main(["migrate-to-server", str(demo[0]), "--db", clinic.conninfo(OWNER_LOGIN),
                 "--user", "admin"], clock)
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"copied vitals: {demo[1].vitals:,} rows" in err
    assert err.index("copied users:") < err.index("copied sessions:") < err.index(
        "copied audit_log:")
    assert "moved " in out and "audit head: entry " in out
    head = out.split("audit head: ")[1].split(" in the file, ")
    assert head[0] == head[1].split(" on the server")[0]  # the same id and hash
    assert f"signed sessions: {demo[1].signed}" in out
    assert "verify after (the server): sound" in out
    assert err.count("copied formulary: 0 rows") == 1  # empty tables too, once each
    assert "copied stock_locations: 1 row\n" in err
    # a second time into the same database: refused, one line, nothing changed
    before = rows_per_table(clinic)
    code = main(["--user", "admin", "migrate-to-server", str(demo[0]), "--db",
                 clinic.conninfo(OWNER_LOGIN)], clock)
    out, err = capsys.readouterr()
    assert code == 1 and "already holds records" in err.strip().splitlines()[-1]
    assert rows_per_table(clinic) == before


def test_only_an_admin_of_the_file_may_move_it(demo, pg_roles, clock):
    clinic = empty_database(pg_roles)
    conninfo = clinic.conninfo(OWNER_LOGIN)
    with pytest.raises(LoginFailed, match="checked against the file's accounts"):
        migrate_to_server(demo[0], conninfo, clock, "admin", "not-the-password")
    with pytest.raises(PermissionDenied, match="needs role admin"):
        migrate_to_server(demo[0], conninfo, clock, "nurse", demo[1].passwords["nurse"])
    with pytest.raises(ServiceError, match="not a clinic server address"):
        migrate_to_server(demo[0], str(demo[0]), clock, "admin", demo[1].passwords["admin"])
    assert set(rows_per_table(clinic).values()) == {0}


def test_the_command_needs_the_file_and_an_admin(demo, env, tmp_path, clock, capsys):
    code = main(["migrate-to-server", str(tmp_path / "none.sqlite"), "--db",
                 "postgresql://nobody@localhost/none"], clock)
    assert code == 1 and "no database file at" in capsys.readouterr().err
    code = main(["migrate-to-server", str(demo[0]), "--db",
                 "postgresql://nobody@localhost/none"], clock)
    assert code == 1 and "--user ADMIN" in capsys.readouterr().err
