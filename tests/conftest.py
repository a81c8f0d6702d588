"""Shared fixtures. Qt runs offscreen in tests; time is fixed."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Nothing a test writes lands in the user's own folders (a clinic server's anchor log is
# kept in the workstation's data folder; crash logs in its state folder).
_TEST_HOME = tempfile.mkdtemp(prefix="ketalog-tests-")
os.environ["XDG_DATA_HOME"] = os.path.join(_TEST_HOME, "data")
os.environ["XDG_STATE_HOME"] = os.path.join(_TEST_HOME, "state")
atexit.register(shutil.rmtree, _TEST_HOME, True)
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402

from ketalog.domain.clock import FixedClock  # noqa: E402


def _cheap_argon2() -> None:
    """argon2id at its lowest cost for the tests run in this process: the product's cost
    (about 0.3 s a hash, twice per login: the password and the signing key) is a guard
    against guessing, not behaviour under test, and it made logins most of the suite's
    time. Hashes and sealed keys carry their own parameters, so files written here still
    open with the real code; tests/trust/test_kdf_cost.py checks, in a fresh process,
    that the product itself uses the full cost."""
    from argon2 import PasswordHasher

    from ketalog.domain import signing
    from ketalog.services import auth

    auth._hasher = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    signing.KDF = {"name": "argon2id", "time_cost": 1, "memory_cost_kib": 64, "parallelism": 1}


_cheap_argon2()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 24, 14, 0, tzinfo=UTC))


from tests.engines import ENGINES  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only(reason): in a `both_engines` module, a test about the local "
        "file itself (its path, PRAGMAs, file faults, encryption, SQLite backups, raw "
        "sqlite3): skipped on the server engine with the reason given")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked `both_engines` that open a database through the `store` or `staffed`
    fixture run once on a local file and once on a clinic database of the test server.
    A test also marked `sqlite_only(reason)` is skipped on the server, with its reason."""
    if not metafunc.definition.get_closest_marker("both_engines"):
        return
    only = metafunc.definition.get_closest_marker("sqlite_only")
    if only is not None and "engine" not in metafunc.fixturenames:
        # a test that opens its own file still shows, skipped, on the server engine
        metafunc.fixturenames.append("engine")
    if "engine" not in metafunc.fixturenames:
        return
    if only is not None:
        reason = str(only.args[0]) if only.args else "a test of the local SQLite file"
        metafunc.parametrize("engine", ["sqlite", pytest.param(
            "postgresql", marks=pytest.mark.skip(reason=f"SQLite only: {reason}"))],
            indirect=True)
    else:
        metafunc.parametrize("engine", ENGINES, indirect=True)


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "sqlite"))


#: Where the test's `store` or `staffed` database is: a file's path or a server's conninfo.
TARGET = pytest.StashKey[str]()


def _open_target(engine: str, target: str, clock: FixedClock):
    if engine == "postgresql":
        from ketalog.store.pg_connection import open_server_store

        return open_server_store(target, clock)
    from ketalog.store.connection import open_store

    return open_store(Path(target), clock)


@pytest.fixture
def reopen(engine: str, clock: FixedClock, request: pytest.FixtureRequest):
    """`reopen()`: another Store on the database of the test's `store` or `staffed`, as a
    second ketalog on the same file or a second workstation of the clinic; `reopen(raw=
    True)`: a bare driver connection to it (sqlite3 with a short busy wait, or psycopg as
    the workstation login, autocommit), which takes none of ketalog's locks. Closed at
    the end of the test."""
    opened: list = []

    def open_again(raw: bool = False):
        target = request.node.stash[TARGET]
        if not raw:
            s = _open_target(engine, target, clock)
        elif engine == "postgresql":
            import psycopg

            s = psycopg.connect(target, autocommit=True)
        else:
            import sqlite3

            s = sqlite3.connect(target, isolation_level=None, timeout=0.2,
                                check_same_thread=False)
        opened.append(s)
        return s

    yield open_again
    for s in opened:
        s.close()


@pytest.fixture
def driver(engine: str):
    """The engine's DB-API driver module, for tests that attack the tables with raw SQL:
    its DatabaseError and IntegrityError are what the tables' refusals raise."""
    if engine == "postgresql":
        import psycopg

        return psycopg
    import sqlite3

    return sqlite3


@pytest.fixture
def store(tmp_path: Path, clock: FixedClock, engine: str, request: pytest.FixtureRequest):
    """A new, migrated database: the local file, or (engine "postgresql") a clinic
    database on the test server opened as a workstation."""
    if engine == "postgresql":
        from ketalog.store.pg_connection import open_server_store
        from tests.pg_clinic import WORKSTATION_LOGIN

        clinic = request.getfixturevalue("pg_clinic")
        request.node.stash[TARGET] = clinic.conninfo(WORKSTATION_LOGIN)
        s = open_server_store(clinic.conninfo(WORKSTATION_LOGIN), clock)
    else:
        from ketalog.store.connection import open_store

        request.node.stash[TARGET] = str(tmp_path / "ketalog.db")
        s = open_store(tmp_path / "ketalog.db", clock)
    yield s
    s.close()


PASSWORDS = {"admin": "admin-pass-1", "nurse": "nurse-pass-1", "provider": "provider-pass-1"}


TEMPLATE_TIME = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)


def _staff(store, clock: FixedClock) -> None:
    """Admin, nurse and provider accounts and the seeded protocols, written through the
    services as a clinic's first day writes them."""
    from ketalog.domain.entities import Role
    from ketalog.services.auth import add_user, bootstrap_admin, login
    from ketalog.services.protocols import seed_protocols
    from ketalog.store.store import SYSTEM

    bootstrap_admin(store, clock, "admin", PASSWORDS["admin"], "Ada Admin", "Test Clinic")
    admin = login(store, clock, "admin", PASSWORDS["admin"])
    add_user(admin, "nurse", [Role.NURSE], PASSWORDS["nurse"], "Nina Nurse", "RN")
    add_user(admin, "provider", [Role.PROVIDER], PASSWORDS["provider"], "Dr. Paul Provider", "MD")
    seed_protocols(store, SYSTEM)


@pytest.fixture(scope="session")
def staffed_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with admin, nurse and provider accounts and seeded protocols, built once
    (argon2 hashing is deliberately slow) and copied for each test that needs it."""
    from ketalog.store.connection import open_store

    path = tmp_path_factory.mktemp("template") / "staffed.sqlite"
    store = open_store(path, FixedClock(TEMPLATE_TIME))
    _staff(store, FixedClock(TEMPLATE_TIME))
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path


@pytest.fixture(scope="session")
def pg_staffed_template(pg_template):
    """The staffed template on the test server: a copy of the migrated clinic database
    staffed through the services as a workstation, built once and then left alone so
    `CREATE DATABASE ... TEMPLATE` can copy it for each test."""
    from ketalog.store.pg_connection import open_server_store
    from tests.pg_clinic import WORKSTATION_LOGIN, copy_of

    template = copy_of(pg_template)
    store = open_server_store(template.conninfo(WORKSTATION_LOGIN), FixedClock(TEMPLATE_TIME))
    try:
        _staff(store, FixedClock(TEMPLATE_TIME))
    finally:
        store.close()
    return template


@pytest.fixture
def staffed(tmp_path: Path, clock: FixedClock, engine: str, request: pytest.FixtureRequest):
    """(store, {role: Context}) on a fresh copy of the staffed template: a local file, or
    (engine "postgresql") a clinic database on the test server opened as a workstation."""
    from ketalog.services.auth import login

    if engine == "postgresql":
        from ketalog.store.pg_connection import open_server_store
        from tests.pg_clinic import WORKSTATION_LOGIN, copy_of

        clinic = copy_of(request.getfixturevalue("pg_staffed_template"))
        request.node.stash[TARGET] = clinic.conninfo(WORKSTATION_LOGIN)
        s = open_server_store(clinic.conninfo(WORKSTATION_LOGIN), clock)
    else:
        import shutil

        from ketalog.store.connection import open_store

        path = tmp_path / "ketalog.sqlite"
        shutil.copy(request.getfixturevalue("staffed_template"), path)
        request.node.stash[TARGET] = str(path)
        s = open_store(path, clock)
    contexts = {name: login(s, clock, name, pw) for name, pw in PASSWORDS.items()}
    yield s, contexts
    s.close()


@pytest.fixture(scope="session")
def pg_server():
    """A throwaway PostgreSQL server (tests/pg_server.py), started once for the whole run
    and only if a test asks for it; skipped, with the reason, where none can be started,
    unless KETALOG_REQUIRE_PG is set (.ci/run sets it once it has installed PostgreSQL):
    then a server that does not start fails the tests instead of hiding them."""
    required = bool(os.environ.get("KETALOG_REQUIRE_PG"))
    try:
        import psycopg  # noqa: F401
    except ImportError:
        if required:
            pytest.fail("KETALOG_REQUIRE_PG is set but psycopg is not installed")
        pytest.skip("psycopg is not installed (pip install -e '.[test]')")
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


@pytest.fixture(scope="session")
def pg_roles(pg_server):
    """The server-wide owner and workstation roles, with one login of each."""
    from tests.pg_clinic import create_roles

    create_roles(pg_server)
    return pg_server


@pytest.fixture(scope="session")
def pg_template(pg_roles):
    """A migrated clinic database nobody connects to: what `pg_clinic` copies."""
    from tests.pg_clinic import migrate, new_database, seed

    template = new_database(pg_roles)
    migrate(template)
    seed(template)
    return template


@pytest.fixture
def pg_clinic(pg_template):
    """A freshly migrated clinic database of the test's own on the test server."""
    from tests.pg_clinic import copy_of

    return copy_of(pg_template)
