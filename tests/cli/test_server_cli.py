"""`ketalog server init|migrate|add-login` and the other commands on a clinic server, run
as a person runs them (`python -m ketalog ...` in a process of its own) against a
throwaway PostgreSQL server of this module's own, which starts without ketalog's roles."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET = "pg-Secret-41"  # the administrator's password in the address: never printed
ADMIN_PASSWORD = "admin-pass-1"


@pytest.fixture(scope="module")
def empty_server():
    """A server with nothing of ketalog's on it (roles are server-wide, so not the shared
    test server, which the other tests give the roles)."""
    required = bool(os.environ.get("KETALOG_REQUIRE_PG"))
    pytest.importorskip("psycopg")
    from tests import pg_server as pg

    try:
        server = pg.start()
    except pg.Unavailable as exc:
        if required:
            pytest.fail(f"KETALOG_REQUIRE_PG is set but no PostgreSQL server started: {exc}")
        pytest.skip(f"no PostgreSQL server for the tests: {exc}")
    try:
        yield server
    finally:
        server.stop()


def address(server, database: str, user: str = "postgres", password: str = SECRET) -> str:
    """A libpq URI over the server's socket, with a password (the test server trusts the
    socket, so the password is carried and never checked: what matters is that it is
    never shown)."""
    return (f"postgresql://{user}:{password}@/{database}?host={server.host}"
            f"&port={server.port}")


def ketalog(*args: str, db: str | None = None, env: dict[str, str] | None = None,
            tmp: Path | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KETALOG_")}
    environment.update({"PYTHONPATH": str(ROOT), "KETALOG_PASSWORD": ADMIN_PASSWORD,
                        "KETALOG_LOGIN_PASSWORD": "ws-pass-1", "QT_QPA_PLATFORM": "offscreen"})
    if tmp is not None:  # logs and the default data folder stay in the test's folder
        environment.update({"HOME": str(tmp), "XDG_DATA_HOME": str(tmp / "data"),
                            "XDG_STATE_HOME": str(tmp / "state")})
    environment.update(env or {})
    argv = [sys.executable, "-m", "ketalog", *(["--db", db] if db else []), *args]
    done = subprocess.run(argv, cwd=ROOT, env=environment, capture_output=True, text=True,
                          timeout=180, stdin=subprocess.DEVNULL)
    assert SECRET not in done.stdout + done.stderr, "the password was printed"
    return done


def roles_and_databases(server) -> tuple[set[str], set[str]]:
    import psycopg

    with psycopg.connect(server.conninfo(), autocommit=True) as conn:
        roles = {str(r[0]) for r in conn.execute("SELECT rolname FROM pg_roles")}
        dbs = {str(r[0]) for r in conn.execute("SELECT datname FROM pg_database")}
    return roles, dbs


@pytest.fixture(scope="module")
def clinic(empty_server, tmp_path_factory):
    """`server init` once, from the empty server; later tests use what it made."""
    tmp = tmp_path_factory.mktemp("server-cli")
    roles, dbs = roles_and_databases(empty_server)
    assert "ketalog_owner" not in roles and "clinic_main" not in dbs
    done = ketalog("--user", "boss", "server", "init", "--clinic", "North Clinic", "--admin",
                   "boss", "--workstation-login", "front_desk", "--owner-login",
                   "clinic_admin", db=address(empty_server, "clinic_main"), tmp=tmp)
    assert done.returncode == 0, done.stderr
    return empty_server, done, tmp


def test_init_makes_roles_database_schema_seeds_and_admin(clinic):
    import psycopg

    server, done, _ = clinic
    out = done.stdout
    assert "created the role ketalog_owner" in out and "created the role ketalog_workstation" \
        in out
    assert "created the database postgresql://postgres@" in out
    assert "step(s) applied" in out
    assert "created the login front_desk (ketalog_workstation)" in out
    assert "created the login clinic_admin (ketalog_owner)" in out
    assert "admin boss" in out and "North Clinic" in out
    roles, dbs = roles_and_databases(server)
    assert {"ketalog_owner", "ketalog_workstation", "front_desk", "clinic_admin"} <= roles
    assert "clinic_main" in dbs
    with psycopg.connect(server.conninfo("clinic_main"), autocommit=True) as conn:
        owner = conn.execute("SELECT pg_get_userbyid(datdba), datcollate FROM pg_database "
                             "WHERE datname = 'clinic_main'").fetchone()
        assert owner == ("ketalog_owner", "C")
        tables = conn.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'users'"
                              ).fetchone()
        assert tables == ("ketalog_owner",)
        users = conn.execute("SELECT username, role FROM users JOIN user_roles ON "
                             "user_id = users.id").fetchall()
        assert users == [("boss", "admin")]
        assert conn.execute("SELECT count(*) FROM indications").fetchone()[0] > 0
        assert conn.execute("SELECT count(*) FROM protocols").fetchone()[0] > 0
        assert "North Clinic" in str(conn.execute(
            "SELECT value FROM clinic_settings WHERE key = 'clinic_name'").fetchone()[0])
        member = conn.execute("SELECT pg_has_role('front_desk', 'ketalog_workstation', "
                              "'MEMBER'), pg_has_role('front_desk', 'ketalog_owner', "
                              "'MEMBER')").fetchone()
        assert member == (True, False)
        password = conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = "
                                "'front_desk'").fetchone()[0]
        assert password.startswith("SCRAM-SHA-256$")


def test_the_first_admin_logs_in_from_a_workstation_login(clinic):
    server, _, tmp = clinic
    ws = address(server, "clinic_main", user="front_desk", password="ws-" + SECRET)
    done = ketalog("--user", "boss", "user", "add", "nurse1", "--role", "nurse", db=ws,
                   env={"KETALOG_NEW_PASSWORD": "nurse-pass-1"}, tmp=tmp)
    assert done.returncode == 0, done.stderr
    assert "added nurse1 (nurse)" in done.stdout
    done = ketalog("--user", "nurse1", "patients", db=ws,
                   env={"KETALOG_PASSWORD": "nurse-pass-1"}, tmp=tmp)
    assert done.returncode == 0, done.stderr
    done = ketalog("--user", "boss", "user", "add", "x", "--role", "nurse", db=ws,
                   env={"KETALOG_PASSWORD": "wrong-password"}, tmp=tmp)
    assert done.returncode == 1 and "wrong username or password" in done.stderr


def test_the_address_can_come_from_KETALOG_DB(clinic):
    server, _, tmp = clinic
    ws = address(server, "clinic_main", user="front_desk")
    done = ketalog("--user", "boss", "sessions", env={"KETALOG_DB": ws}, tmp=tmp)
    assert done.returncode == 0, done.stderr


def test_init_again_is_refused_before_anything_changes(clinic):
    server, _, tmp = clinic
    done = ketalog("server", "init", "--clinic", "Again", "--admin", "other",
                   db=address(server, "clinic_main"), tmp=tmp)
    assert done.returncode == 1
    assert "already holds a clinic (1 account(s))" in done.stderr \
        or "already holds a clinic (2 account(s))" in done.stderr
    assert done.stderr.count("\n") == 1


@pytest.fixture(scope="module")
def south(clinic):
    """A second clinic on the same server, set up after the first."""
    server, _, tmp = clinic
    done = ketalog("server", "init", "--clinic", "South", "--admin", "chief",
                   "--workstation-login", "front_desk", db=address(server, "clinic_south"),
                   tmp=tmp)
    assert done.returncode == 0, done.stderr
    return done


def test_a_second_clinic_on_the_same_server_finds_the_roles(south):
    assert "role ketalog_owner already exists" in south.stdout
    assert "created the database" in south.stdout
    assert "the login front_desk already exists; its password is unchanged" in south.stdout


def test_init_goes_on_in_an_empty_database_made_beforehand(clinic):
    import psycopg

    from ketalog.store import pg_schema

    server, _, tmp = clinic
    with psycopg.connect(server.conninfo(), autocommit=True) as conn:
        conn.execute(pg_schema.create_database_statement("clinic_made"))
    done = ketalog("server", "init", "--clinic", "Made", "--admin", "chief",
                   db=address(server, "clinic_made"), tmp=tmp)
    assert done.returncode == 0, done.stderr
    assert "the database postgresql://postgres@" in done.stdout
    assert "already exists (empty); using it" in done.stdout


def test_migrate_as_the_owner_login(clinic):
    server, _, tmp = clinic
    done = ketalog("server", "migrate", "--db", address(server, "clinic_main",
                                                        user="clinic_admin"), tmp=tmp)
    assert done.returncode == 0, done.stderr
    assert "the schema is up to date" in done.stdout
    done = ketalog("server", "migrate", db=address(server, "clinic_main", user="front_desk"),
                   tmp=tmp)
    assert done.returncode == 1 and "may not change the schema" in done.stderr


def test_migrate_applies_a_pending_step(clinic, south):
    """A later step (here one made up for the test) is applied once, as the owner role,
    and recorded; the workstations' grants cover the table it adds."""
    import psycopg

    from ketalog.store import pg_connection, pg_schema

    server, _, _ = clinic
    with psycopg.connect(server.conninfo(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE clinic_old OWNER {pg_schema.OWNER_ROLE} "
                     "TEMPLATE clinic_south")
    later = pg_schema.Step(("m999_later",), ("CREATE TABLE later_things (id bigint)",))
    owner = address(server, "clinic_old", user="clinic_admin")
    steps = (*pg_schema.STEPS, later)
    assert pg_connection.migrate_server(owner, "2026-12-01T00:00:00.000Z", steps) == [
        "m999_later"]
    assert pg_connection.migrate_server(owner, "2026-12-01T00:00:00.000Z", steps) == []
    with psycopg.connect(server.conninfo("clinic_old"), autocommit=True) as conn:
        assert conn.execute("SELECT tableowner FROM pg_tables WHERE tablename = "
                            "'later_things'").fetchone() == ("ketalog_owner",)
        assert conn.execute("SELECT has_table_privilege('front_desk', 'later_things', "
                            "'INSERT')").fetchone() == (True,)


def test_migrate_refuses_a_database_without_ketalog(clinic):
    import psycopg

    server, _, tmp = clinic
    with psycopg.connect(server.conninfo(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE not_a_clinic OWNER ketalog_owner")
    done = ketalog("server", "migrate", db=address(server, "not_a_clinic"), tmp=tmp)
    assert done.returncode == 1 and "`ketalog server init`" in done.stderr


def test_a_workstation_refuses_a_newer_schema(clinic, south):
    import psycopg

    server, _, tmp = clinic
    with psycopg.connect(server.conninfo(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE clinic_newer OWNER ketalog_owner TEMPLATE clinic_south")
    with psycopg.connect(server.conninfo("clinic_newer"), autocommit=True) as conn:
        conn.execute("INSERT INTO schema_migrations (migration_set, name, applied_at) "
                     "SELECT migration_set, 'm999_future', applied_at FROM schema_migrations "
                     "LIMIT 1")
    done = ketalog("--user", "chief", "patients",
                   db=address(server, "clinic_newer", user="front_desk"), tmp=tmp)
    assert done.returncode == 1 and "set up by a newer ketalog" in done.stderr
    done = ketalog("server", "migrate", db=address(server, "clinic_newer"), tmp=tmp)
    assert done.returncode == 1 and "newer version of ketalog" in done.stderr


def test_add_login(clinic):
    server, _, tmp = clinic
    done = ketalog("server", "add-login", "chair_room", db=address(server, "clinic_main"),
                   tmp=tmp)
    assert done.returncode == 0, done.stderr
    assert "created the login chair_room (ketalog_workstation)" in done.stdout
    done = ketalog("server", "add-login", "Bad-Name", db=address(server, "clinic_main"),
                   tmp=tmp)
    assert done.returncode == 1 and "lower-case" in done.stderr


@pytest.mark.parametrize(("command", "says"), [
    (["backup"], "made on the server with pg_dump: see docs/server.md"),
    (["restore", "some-backup.sqlite"], "pg_restore"),
    (["encrypt"], "disk encryption"),
    (["recover-admin", "boss", "--reason", "forgotten password"], "ketalog user unlock"),
    (["init", "--clinic", "C", "--admin", "a"], "ketalog server init"),
])
def test_file_only_commands_refuse_a_server(clinic, command, says):
    server, _, tmp = clinic
    done = ketalog("--user", "boss", *command, db=address(server, "clinic_main"), tmp=tmp)
    assert done.returncode == 1
    assert says in done.stderr and "is a clinic server" in done.stderr
    assert done.stderr.startswith("ketalog: error: `ketalog ")
    assert done.stderr.count("\n") == 1


def test_verify_checks_a_server(clinic):
    server, _, tmp = clinic
    done = ketalog("verify", db=address(server, "clinic_main"), tmp=tmp)
    assert done.returncode == 0, done.stderr
    assert ": sound (" in done.stdout and "clinic_main" in done.stdout
    assert SECRET not in done.stdout + done.stderr


def test_server_commands_need_a_server_address(tmp_path):
    done = ketalog("server", "migrate", db=str(tmp_path / "k.sqlite"), tmp=tmp_path)
    assert done.returncode == 1 and "needs the clinic server's address" in done.stderr


def test_an_unreachable_server_is_one_line_without_the_password(empty_server, tmp_path):
    wrong = (f"postgresql://front_desk:{SECRET}@/clinic_main?host={empty_server.host}"
             "&port=1")
    done = ketalog("--user", "boss", "patients", db=wrong, tmp=tmp_path)
    assert done.returncode == 1 and "cannot reach the clinic server" in done.stderr
    assert done.stderr.count("\n") == 1
    broken = f"postgresql://front_desk:{SECRET}@/clinic_main?port=notanumber"
    done = ketalog("--user", "boss", "patients", db=broken, tmp=tmp_path)
    assert done.returncode == 1


def test_listen_hl7_on_a_server(clinic):
    """The clinic's one feed, on the server machine: it opens the server, answers a
    monitor, audits its start and stop there, and stops cleanly on SIGTERM."""
    import signal

    import psycopg

    server, _, tmp = clinic
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KETALOG_")}
    environment.update({"PYTHONPATH": str(ROOT), "HOME": str(tmp)})
    db = address(server, "clinic_main", user="front_desk")
    listener = subprocess.Popen(
        [sys.executable, "-m", "ketalog", "listen-hl7", "--db", db, "--host", "127.0.0.1",
         "--port", "0"], cwd=ROOT, env=environment, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    try:
        assert listener.stdout is not None
        first = listener.stdout.readline()
        assert first.startswith("listening for HL7 on 127.0.0.1:"), first + (
            listener.stderr.read() if listener.poll() is not None and listener.stderr else "")
        assert "database postgresql://front_desk@" in first
        port = first.split("127.0.0.1:", 1)[1].split()[0]
        sent = ketalog("send-hl7", "--port", port, "--mrn", "NOBODY-1", "--count", "1",
                       "--interval", "0", tmp=tmp)
        assert sent.returncode == 0, sent.stderr
        assert ": A" in sent.stdout  # an ACK came back (AR/AE: no such patient)
    finally:
        listener.send_signal(signal.SIGTERM)
        out, err = listener.communicate(timeout=60)
    assert listener.returncode == 0, err
    assert "stopped: " in out and SECRET not in out + err
    with psycopg.connect(server.conninfo("clinic_main"), autocommit=True) as conn:
        actions = [r[0] for r in conn.execute(
            "SELECT action FROM audit_log WHERE username = 'hl7-listener' ORDER BY id")]
    assert actions[0] == "hl7_listener_started" and actions[-1] == "hl7_listener_stopped"


def test_a_pg_dump_backup_restores_as_docs_server_md_says(clinic, south):
    """pg_dump --format=custom, then pg_restore --create after the original was renamed:
    the database comes back with its owner, collation and grants, and a workstation
    opens it."""
    import psycopg

    from tests import pg_server as pg

    server, _, tmp = clinic
    bindir = pg.find_bindir()
    if bindir is None or not (bindir / "pg_dump").is_file():
        pytest.skip("pg_dump is not installed beside the test server")
    with psycopg.connect(server.conninfo(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE clinic_dumped OWNER ketalog_owner TEMPLATE clinic_south")
    dump = tmp / "clinic_dumped.dump"
    socket = ["--host", server.host, "--port", str(server.port), "--username", "postgres"]
    subprocess.run([str(bindir / "pg_dump"), "--format=custom", f"--file={dump}", *socket,
                    "clinic_dumped"], check=True, capture_output=True, timeout=120)
    with psycopg.connect(server.conninfo(), autocommit=True) as conn:
        conn.execute("ALTER DATABASE clinic_dumped RENAME TO clinic_dumped_damaged")
    subprocess.run([str(bindir / "pg_restore"), "--create", "--dbname=postgres", *socket,
                    str(dump)], check=True, capture_output=True, timeout=120)
    with psycopg.connect(server.conninfo("clinic_dumped"), autocommit=True) as conn:
        assert conn.execute("SELECT datcollate, pg_get_userbyid(datdba) FROM pg_database "
                            "WHERE datname = 'clinic_dumped'").fetchone() == ("C",
                                                                              "ketalog_owner")
        assert conn.execute("SELECT has_database_privilege('front_desk', 'clinic_dumped', "
                            "'CONNECT'), has_table_privilege('front_desk', 'audit_log', "
                            "'UPDATE')").fetchone() == (True, False)
    done = ketalog("--user", "chief", "audit",
                   db=address(server, "clinic_dumped", user="front_desk"), tmp=tmp)
    assert done.returncode == 0, done.stderr
    assert "matching entries" in done.stdout


def test_init_by_a_role_that_may_create_roles_and_databases(tmp_path):
    """The documented alternative to the superuser: a role with CREATEROLE and CREATEDB
    (on a server of its own, where it creates the ketalog roles itself); a login with
    neither is refused before anything is made."""
    import psycopg

    from tests import pg_server as pg

    try:
        server = pg.start()
    except pg.Unavailable as exc:
        if os.environ.get("KETALOG_REQUIRE_PG"):
            pytest.fail(f"no PostgreSQL server started: {exc}")
        pytest.skip(f"no PostgreSQL server for the tests: {exc}")
    try:
        with psycopg.connect(server.conninfo(), autocommit=True) as conn:
            conn.execute("CREATE ROLE it_dba LOGIN CREATEROLE CREATEDB")
            conn.execute("CREATE ROLE nobody_special LOGIN")
        done = ketalog("server", "init", "--clinic", "C", "--admin", "boss",
                       db=address(server, "clinic_x", user="nobody_special"), tmp=tmp_path)
        assert done.returncode == 1 and "may not create roles and databases" in done.stderr
        assert roles_and_databases(server)[1] == {"postgres", "template0", "template1"}
        done = ketalog("server", "init", "--clinic", "C", "--admin", "boss",
                       "--workstation-login", "ws1", db=address(server, "clinic_x",
                                                                user="it_dba"), tmp=tmp_path)
        assert done.returncode == 0, done.stderr
        done = ketalog("--user", "boss", "patients", db=address(server, "clinic_x", "ws1"),
                       tmp=tmp_path)
        assert done.returncode == 0, done.stderr
        done = ketalog("server", "migrate", db=address(server, "clinic_x", user="it_dba"),
                       tmp=tmp_path)
        assert done.returncode == 0 and "up to date" in done.stdout, done.stderr
    finally:
        server.stop()


def test_init_refuses_a_database_with_someone_elses_tables(clinic):
    import psycopg

    server, _, tmp = clinic
    with psycopg.connect(server.conninfo(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE accounting")
    with psycopg.connect(server.conninfo("accounting"), autocommit=True) as conn:
        conn.execute("CREATE TABLE invoices (id bigint)")
    done = ketalog("server", "init", "--clinic", "C", "--admin", "boss",
                   db=address(server, "accounting"), tmp=tmp)
    assert done.returncode == 1 and "1 table(s) that are not ketalog's" in done.stderr
    with psycopg.connect(server.conninfo("accounting"), autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
                            ).fetchone() == (1,)
    done = ketalog("server", "init", "--clinic", "C", "--admin", "boss",
                   db=address(server, "Clinic-Main"), tmp=tmp)
    assert done.returncode == 1 and "cannot be a clinic database's name" in done.stderr


def test_a_single_workstation_clinic_moves_onto_a_new_server(empty_server, tmp_path):
    """The whole path a clinic takes, as its administrator types it: an empty database
    set up for the move, the file's history moved in by an owner login, verify on the
    server, then the file's own nurse logs in over a workstation login."""
    from tests.pg_migration import demo_file

    path, report = demo_file(tmp_path)
    server_db = address(empty_server, "clinic_moved")
    done = ketalog("server", "init", "--for-move", "--owner-login", "clinic_admin",
                   "--workstation-login", "chair_1", db=server_db, tmp=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "ready, empty, for `ketalog server migrate-from" in done.stdout
    owner = address(empty_server, "clinic_moved", user="clinic_admin")
    done = ketalog("--user", "admin", "server", "migrate-from", str(path), db=owner, tmp=tmp_path,
                   env={"KETALOG_PASSWORD": report.passwords["admin"]})
    assert done.returncode == 0, done.stderr
    assert "verify after (the server): sound" in done.stdout
    workstation = address(empty_server, "clinic_moved", user="chair_1")
    done = ketalog("verify", db=workstation, tmp=tmp_path)
    assert done.returncode == 0 and ": sound (" in done.stdout, done.stderr
    done = ketalog("--user", "nurse", "sessions", db=workstation, tmp=tmp_path,
                   env={"KETALOG_PASSWORD": report.passwords["nurse"]})
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") >= report.sessions


def test_init_needs_a_clinic_and_an_admin_unless_for_a_move(empty_server, tmp_path):
    done = ketalog("server", "init", db=address(empty_server, "clinic_nothing"), tmp=tmp_path)
    assert done.returncode == 1 and "--clinic and --admin" in done.stderr
