"""Service-level errors: each carries a sentence a user can act on."""

from __future__ import annotations

from ketalog.domain.discharge import ReadinessCheck
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


class ReadinessNotAcknowledged(ServiceError):
    """Discharge-readiness checks failed: each needs the nurse's reason before Complete."""

    def __init__(self, checks: list[ReadinessCheck]) -> None:
        self.checks = checks
        super().__init__("discharge readiness not met; acknowledge with a reason: " +
                         "; ".join(c.as_text() for c in checks))


class EmergencyAccessEnded(PermissionDenied):
    """A break-glass grant ran out: the user must log in normally (or an admin helps)."""
