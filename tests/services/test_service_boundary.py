"""The service boundary: a store refusal leaves a service as a ServiceError carrying the
store's own sentence, so the UI needs to catch ServiceError only."""

from __future__ import annotations

import pytest

from ketalog.services.errors import ServiceError, StoreFailed, service_boundary, store_failed
from ketalog.store.errors import StoreError, WrongPassphrase


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
