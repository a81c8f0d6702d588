"""Service-level errors: each carries a sentence a user can act on."""

from __future__ import annotations

from ketalog.domain.dosing import DoseWarning


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


class EmergencyAccessEnded(PermissionDenied):
    """A break-glass grant ran out: the user must log in normally (or an admin helps)."""
