"""Service-level errors: each carries a sentence a user can act on."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from ketalog.domain.discharge import ReadinessCheck
from ketalog.domain.dosing import DoseWarning
from ketalog.store.errors import StoreError

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
    """The database refused the work (busy, full, read-only, damaged): the store's own
    sentence, unchanged, so the UI shows it as before; `store_error` keeps the original
    class for callers that tell the cases apart."""

    def __init__(self, error: StoreError) -> None:
        self.store_error = error
        super().__init__(str(error))


def service_boundary(func: Callable[P, R]) -> Callable[P, R]:
    """Wrap a service function so a StoreError leaves it as StoreFailed (a ServiceError)
    with the same wording: the UI then catches ServiceError alone. One decorator at the
    boundary instead of a try block in every function."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except StoreError as exc:
            raise StoreFailed(exc) from exc

    return wrapper
