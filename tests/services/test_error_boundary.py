"""The service boundary: a store refusal leaves a service as a ServiceError carrying the
store's own sentence, so the UI needs to catch ServiceError only. Checked from the real
side too: a database another program holds locked, one gone read-only, a file that
cannot open, a duplicate."""

from __future__ import annotations

import pytest

from ketalog.services.errors import ServiceError, StoreFailed, service_boundary, store_failed
from ketalog.store.errors import StoreError, WrongPassphrase
from tests.engines import hold_write_lock

pytestmark = pytest.mark.both_engines


@service_boundary
def refused(message: str) -> int:
    raise WrongPassphrase(message)


@service_boundary
def fine(value: int) -> int:
    return value * 2


def test_store_error_becomes_service_error_with_the_same_words():
    with pytest.raises(ServiceError, match="^the database is busy; try again$") as info:
        refused("the database is busy; try again")
    assert isinstance(info.value, StoreFailed)
    assert isinstance(info.value.store_error, WrongPassphrase)
    assert isinstance(info.value.__cause__, StoreError)


def test_results_and_names_pass_through():
    assert fine(21) == 42
    assert fine.__name__ == "fine"


def test_a_passed_on_error_keeps_its_own_kind():
    """Code that tells the cases apart (a duplicate, a busy file) keeps working: the
    ServiceError is also an instance of the store error's class, and one wrapped service
    calling another does not wrap twice."""
    from ketalog.store.errors import Conflict

    @service_boundary
    def duplicate() -> None:
        raise Conflict("a patient with this MRN already exists")

    @service_boundary
    def outer() -> None:
        duplicate()

    with pytest.raises(Conflict) as info:
        outer()
    assert isinstance(info.value, ServiceError) and isinstance(info.value, StoreFailed)
    assert isinstance(info.value.store_error, Conflict)
    assert not isinstance(info.value.store_error, StoreFailed)
    again = store_failed(Conflict("again"))
    assert type(again) is type(info.value) and str(again) == "again"  # one class per kind


def _public_service_functions() -> list[tuple[str, object]]:
    import importlib
    import inspect
    import pkgutil

    import ketalog.services

    found = []
    for info in pkgutil.iter_modules(ketalog.services.__path__):
        if info.name in ("errors", "context"):
            continue
        module = importlib.import_module(f"ketalog.services.{info.name}")
        for name, value in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(value):
                continue
            home = getattr(value, "__wrapped__", value)
            if home.__module__ != module.__name__ or inspect.isgeneratorfunction(home):
                continue
            found.append((f"{info.name}.{name}", value))
    return found


WRAPPER_CODE = service_boundary(fine.__wrapped__).__code__  # type: ignore[attr-defined]


def test_every_public_service_function_is_behind_the_boundary():
    functions = _public_service_functions()
    assert len(functions) > 250  # the scan sees the whole package
    bare = [name for name, f in functions if f.__code__ is not WRAPPER_CODE]  # type: ignore[attr-defined]
    assert bare == [], f"services that can let a StoreError out: {bare}"


def test_the_scan_finds_an_unwrapped_function():
    def plain() -> None:
        raise StoreError("x")

    assert plain.__code__ is not WRAPPER_CODE and refused.__code__ is WRAPPER_CODE


@pytest.mark.sqlite_only("holds the file's write lock from a second sqlite3 connection")
def test_a_busy_database_reaches_the_gui_as_a_service_error(staffed):
    """From the other side: another workstation holds the write lock."""
    import sqlite3
    from datetime import date

    from ketalog.services.patients import PatientInput, create_patient

    store, ctx = staffed
    other = sqlite3.connect(str(store.path), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    store.conn.execute("PRAGMA busy_timeout = 100")
    try:
        with pytest.raises(ServiceError, match="busy") as info:
            create_patient(ctx["nurse"], PatientInput("B1", "Busy", "Bea", date(1980, 1, 1)))
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert isinstance(info.value, StoreFailed)
    assert store.count("patients", mrn="B1") == 0


def test_a_writer_held_up_by_another_reaches_the_gui_as_a_service_error(staffed, reopen,
                                                                       engine):
    """The same through the store on either engine: another ketalog on the file, or another
    workstation of the clinic server, is in the middle of a write."""
    from datetime import date

    from ketalog.services.patients import PatientInput, create_patient

    store, ctx = staffed
    other = reopen()
    hold_write_lock(other)
    if engine == "postgresql":
        store.engine.write_wait_ms = 100
    else:
        store.conn.execute("PRAGMA busy_timeout = 100")
    try:
        with pytest.raises(ServiceError, match="busy .*; try again") as info:
            create_patient(ctx["nurse"], PatientInput("B2", "Busy", "Bea", date(1980, 1, 1)))
    finally:
        other.engine.rollback()
    assert isinstance(info.value, StoreFailed)
    assert store.count("patients", mrn="B2") == 0


def test_a_read_only_database_of_either_engine_reaches_the_gui_as_a_service_error(
        staffed, engine):
    """A file turned read-only under the open store, or a clinic server that became a
    read-only standby."""
    from datetime import date

    from ketalog.services.patients import PatientInput, create_patient

    store, ctx = staffed
    on, off = (("SET default_transaction_read_only = on",
                "SET default_transaction_read_only = off") if engine == "postgresql"
               else ("PRAGMA query_only = ON", "PRAGMA query_only = OFF"))
    store.conn.execute(on)
    try:
        with pytest.raises(ServiceError, match="read-only.*: nothing was saved") as info:
            create_patient(ctx["nurse"], PatientInput("R2", "Read", "Rhea", date(1980, 1, 1)))
    finally:
        store.conn.execute(off)
    assert isinstance(info.value, StoreFailed)
    assert store.count("patients", mrn="R2") == 0


@pytest.mark.sqlite_only("turns the file read-only with PRAGMA query_only")
def test_a_read_only_database_reaches_the_gui_as_a_service_error(staffed):
    """SQLite reports a file that turned read-only under the open store as query_only does."""
    from datetime import date

    from ketalog.services.patients import PatientInput, create_patient

    store, ctx = staffed
    store.conn.execute("PRAGMA query_only = ON")
    try:
        with pytest.raises(ServiceError, match="read-only: nothing was saved") as info:
            create_patient(ctx["nurse"], PatientInput("R1", "Read", "Rhea", date(1980, 1, 1)))
    finally:
        store.conn.execute("PRAGMA query_only = OFF")
    assert isinstance(info.value, StoreFailed)
    assert store.count("patients", mrn="R1") == 0


def test_a_duplicate_reaches_the_gui_as_a_service_error_with_the_store_words(staffed):
    from datetime import date

    from ketalog.services.patients import PatientInput, create_patient
    from ketalog.store.errors import Conflict

    _, ctx = staffed
    data = PatientInput("D1", "Double", "Dora", date(1980, 1, 1))
    create_patient(ctx["nurse"], data)
    with pytest.raises(ServiceError) as info:
        create_patient(ctx["nurse"], data)
    assert isinstance(info.value, Conflict) and isinstance(info.value, StoreFailed)
    assert str(info.value) == str(info.value.store_error)


def _open_refusal(path, clock) -> Exception:
    from ketalog.store.connection import open_store

    try:
        open_store(path, clock, quick_check=False)
    except StoreError as exc:
        return exc
    raise AssertionError(f"{path} opened")


@pytest.mark.sqlite_only("a local file that is not a database")
def test_a_file_that_cannot_open_is_told_apart_as_a_service_error(tmp_path, clock):
    """What start-up offers a backup for: an empty file, a file of some other kind."""
    from ketalog.services.database import open_database_file
    from ketalog.services.errors import CannotOpenDatabase
    from ketalog.store.errors import CannotOpen, EmptyDatabase

    empty = tmp_path / "empty.sqlite"
    empty.touch()
    with pytest.raises(CannotOpenDatabase) as info:
        open_database_file(empty, clock, quick_check=False)
    assert isinstance(info.value, EmptyDatabase) and isinstance(info.value, ServiceError)
    assert str(info.value) == str(_open_refusal(empty, clock))

    other = tmp_path / "other.sqlite"
    import sqlite3

    plain = sqlite3.connect(other)
    plain.execute("CREATE TABLE notes (text TEXT)")
    plain.commit()
    plain.close()
    expected = _open_refusal(other, clock)
    assert isinstance(expected, CannotOpen)
    with pytest.raises(CannotOpenDatabase, match="not a ketalog database"):
        open_database_file(other, clock, quick_check=False)


@pytest.mark.sqlite_only("a local file migrated by a newer ketalog (the server's own refusal is in tests/store/test_pg_store.py)")
def test_a_newer_file_is_a_cannot_open_of_its_own_kind(tmp_path, clock):
    import sqlite3

    from ketalog.services.database import open_database_file
    from ketalog.services.errors import CannotOpenDatabase, NewerDatabase
    from ketalog.store.connection import MIGRATION_SET, open_store

    path = tmp_path / "k.sqlite"
    open_store(path, clock).close()
    raw = sqlite3.connect(path)
    raw.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                "VALUES (?, '9999_from_the_future', '2030-01-01')", [MIGRATION_SET])
    raw.commit()
    raw.close()
    with pytest.raises(NewerDatabase, match="newer version of ketalog") as info:
        open_database_file(path, clock, quick_check=False)
    assert isinstance(info.value, CannotOpenDatabase)
    assert str(info.value) == str(_open_refusal(path, clock))


def test_the_mirrors_follow_the_store_classes():
    """`except CannotOpenDatabase` catches every kind `except CannotOpen` caught, and a
    mirror is still its store error (callers outside the GUI keep telling them apart)."""
    from ketalog.services.errors import CannotOpenDatabase, PassphraseNeeded, PassphraseRefused
    from ketalog.store import errors as store_errors

    kinds = [value for value in vars(store_errors).values()
             if isinstance(value, type) and issubclass(value, StoreError)]
    assert len(kinds) > 10
    for kind in kinds:
        mirror = store_failed(kind("words"))
        assert isinstance(mirror, kind) and isinstance(mirror, ServiceError)
        assert str(mirror) == "words"
        assert isinstance(mirror, CannotOpenDatabase) == issubclass(kind, store_errors.CannotOpen)
    assert type(store_failed(store_errors.PassphraseRequired("x"))) is PassphraseNeeded
    assert type(store_failed(store_errors.WrongPassphrase("x"))) is PassphraseRefused


def _service_modules_the_gui_imports() -> set[str]:
    import ast
    from pathlib import Path

    import ketalog.ui

    names: set[str] = set()
    for source in Path(ketalog.ui.__path__[0]).glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and \
                    node.module.startswith("ketalog.services."):
                names.add(node.module)
    return names - {"ketalog.services.errors", "ketalog.services.context"}


def test_every_function_of_every_service_the_gui_imports_is_wrapped():
    """The GUI's own door, walked from its imports: a new service module or function it
    uses without the boundary fails here."""
    import importlib
    import inspect

    modules = _service_modules_the_gui_imports()
    assert len(modules) > 30  # the walk sees the GUI's imports
    bare = []
    for module_name in sorted(modules):
        module = importlib.import_module(module_name)
        for name, value in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(value):
                continue
            home = getattr(value, "__wrapped__", value)
            if home.__module__ != module_name or inspect.isgeneratorfunction(home):
                continue
            if value.__code__ is not WRAPPER_CODE:
                bare.append(f"{module_name}.{name}")
    assert bare == [], f"services the GUI calls that can let a StoreError out: {bare}"


def test_the_monitor_listener_start_is_wrapped():
    """The feed runner starts the listener, which opens its own connection."""
    from ketalog.services.device_listener import Hl7Listener

    assert Hl7Listener.start.__code__ is WRAPPER_CODE


def test_a_read_on_a_closed_database_is_a_service_error_of_its_own(store):
    """A timer that outlived a logout or a restore reads through a closed connection:
    the driver's own error leaves the service as DatabaseGone, which the app skips
    quietly, not as sqlite3.ProgrammingError."""
    from ketalog.services.errors import DatabaseGone
    from ketalog.services.system import needs_first_admin

    store.close()
    with pytest.raises(DatabaseGone, match="closed") as info:
        needs_first_admin(store)
    assert isinstance(info.value, ServiceError)

