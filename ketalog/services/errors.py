"""Service-level errors: each carries a sentence a user can act on."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from ketalog.domain.discharge import ReadinessCheck
from ketalog.domain.dosing import DoseWarning
from ketalog.store.errors import (
    CannotOpen,
    ChangedMeanwhile,
    DatabaseClosed,
    NewerSchema,
    PassphraseRequired,
    StoreError,
    WrongPassphrase,
    from_driver,
)

P = ParamSpec("P")
R = TypeVar("R")


class ServiceError(Exception):
    pass


class PermissionDenied(ServiceError):
    pass


class LoginFailed(ServiceError):
    pass


class AccountLocked(ServiceError):
    pass


class InvalidState(ServiceError):
    """The action does not fit the record's current status (e.g. editing a signed session)."""


class WarningsNotAcknowledged(ServiceError):
    """Soft dose warnings must be acknowledged before the entry is recorded."""

    def __init__(self, warnings: list[DoseWarning]) -> None:
        self.warnings = warnings
        super().__init__("acknowledge these warnings first: " +
                         "; ".join(w.as_text() for w in warnings))


class ReadinessNotAcknowledged(ServiceError):
    """Discharge-readiness checks failed: each needs the nurse's reason before Complete."""

    def __init__(self, checks: list[ReadinessCheck]) -> None:
        self.checks = checks
        super().__init__("discharge readiness not met; acknowledge with a reason: " +
                         "; ".join(c.as_text() for c in checks))


class EmergencyAccessEnded(PermissionDenied):
    """A break-glass grant ran out: the user must log in normally (or an admin helps)."""


class StoreFailed(ServiceError):
    """The database refused the work (busy, full, read-only, damaged, a duplicate): the
    store's own sentence, unchanged, so the UI shows it as before; `store_error` keeps
    the original. Made by `store_failed`, each one is also an instance of the store
    error's own class (a `Conflict` stays a `Conflict`), so callers that tell the cases
    apart keep working while the front ends catch ServiceError alone."""

    def __init__(self, error: StoreError) -> None:
        self.store_error = error
        super().__init__(str(error))


class CannotOpenDatabase(StoreFailed, CannotOpen):
    """The file cannot be used as it is (empty, damaged, not ketalog's, written by a
    newer version): start-up offers the newest verified backup."""


class NewerDatabase(CannotOpenDatabase, NewerSchema):
    """Written by a newer ketalog: updating ketalog is the fix, a backup loses data."""


class PassphraseNeeded(StoreFailed, PassphraseRequired):
    """The file is encrypted: start-up asks for the clinic passphrase."""


class PassphraseRefused(StoreFailed, WrongPassphrase):
    """The passphrase did not open the file: start-up asks again (or offers a backup)."""


class DatabaseGone(StoreFailed, DatabaseClosed):
    """The store was closed under a late caller (a timer after a logout or a restore):
    the caller skips its work quietly; nothing was read or written."""


class EditConflict(StoreFailed, ChangedMeanwhile):
    """Another workstation changed the record after this screen read it; nothing was
    saved, and the screen reloads the record (the message names who changed it)."""


# The cases the GUI tells apart have a named class; every other store error gets one
# made on first use. A mirror's parents follow the store's own classes, so the mirror of
# DamagedDatabase is a CannotOpenDatabase: `except CannotOpenDatabase` keeps catching
# every kind `except CannotOpen` caught.
_MIRRORS: dict[type[StoreError], type[StoreFailed]] = {
    CannotOpen: CannotOpenDatabase,
    NewerSchema: NewerDatabase,
    PassphraseRequired: PassphraseNeeded,
    WrongPassphrase: PassphraseRefused,
    DatabaseClosed: DatabaseGone,
    ChangedMeanwhile: EditConflict,
}


def _mirror(kind: type[StoreError]) -> type[StoreFailed]:
    mirror = _MIRRORS.get(kind)
    if mirror is None:
        parent = next((base for base in kind.__mro__[1:] if issubclass(base, StoreError)), None)
        mirror = type(kind.__name__, (StoreFailed if parent is None else _mirror(parent), kind),
                      {"__module__": __name__, "__qualname__": f"StoreFailed.{kind.__name__}"})
        _MIRRORS[kind] = mirror
    return mirror


def store_failed(error: StoreError) -> StoreFailed:
    """`error` as a StoreFailed of its own kind (one class per store error class)."""
    return _mirror(type(error))(error)


def service_boundary(func: Callable[P, R]) -> Callable[P, R]:
    """Wrap a service function so a StoreError leaves it as a StoreFailed (a
    ServiceError) with the same wording, and so does a database driver's own exception
    (raised by a read, which has no write transaction to translate it): the UI then
    catches ServiceError alone, whatever engine is underneath. One decorator on every
    public service function instead of a try block in each
    (`tests/services/test_error_boundary.py` keeps it on all of them)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except StoreFailed:
            raise  # already passed on by the service it called
        except StoreError as exc:
            raise store_failed(exc) from exc
        except Exception as exc:
            error = from_driver(exc)
            if error is None:
                raise
            raise store_failed(error) from exc

    return wrapper
