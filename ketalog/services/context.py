"""Who is acting. Every service call carries the logged-in user; permissions are checked
here, in the services, not merely by hiding buttons. Under break-glass emergency access
the context carries the grant: its roles replace the user's until it expires, and every
audit entry names it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ketalog.domain.clock import Clock
from ketalog.domain.entities import Role, User
from ketalog.domain.signing import SigningKey
from ketalog.services.errors import EmergencyAccessEnded, PermissionDenied
from ketalog.store.store import Actor, Store

# Emergency access documents care; it never administers the clinic.
EMERGENCY_ROLES = frozenset({Role.NURSE, Role.PROVIDER})
# Who may read patients' session records (lists, a record, a course): the clinical roles
# and the admin, who answers for the records (docs/architecture.md "Who may read what").
RECORD_READERS = (Role.NURSE, Role.PROVIDER, Role.ADMIN)


@dataclass(frozen=True)
class Emergency:
    """A break-glass grant (a row of emergency_access)."""

    id: int
    started_at: datetime
    expires_at: datetime
    reason: str

    @property
    def tag(self) -> str:
        return f"emergency #{self.id}"


@dataclass(frozen=True)
class Context:
    store: Store
    clock: Clock
    user: User
    emergency: Emergency | None = None
    # Unsealed with the password at login; signing a record needs it (never stored).
    signing_key: SigningKey | None = None

    @property
    def actor(self) -> Actor:
        if self.emergency is not None:  # every entry written under it says so
            return Actor(self.user.id, f"{self.user.username} [{self.emergency.tag}]")
        return Actor(self.user.id, self.user.username)

    @property
    def roles(self) -> frozenset[Role]:
        return EMERGENCY_ROLES if self.emergency is not None else self.user.roles

    def emergency_over(self) -> bool:
        return self.emergency is not None and self.clock.now() >= self.emergency.expires_at

    def require(self, *roles: Role, action: str) -> None:
        if self.emergency_over():
            assert self.emergency is not None
            raise EmergencyAccessEnded(
                f"emergency access for {self.user.username} ended at "
                f"{self.emergency.expires_at.astimezone():%H:%M}; log in normally or ask "
                "an admin")
        if not any(r in self.roles for r in roles):
            needed = " or ".join(r.value for r in roles)
            how = " under emergency access" if self.emergency is not None else ""
            raise PermissionDenied(f"{self.user.username} may not {action}{how} "
                                   f"(needs role {needed})")

    def refuse_in_emergency(self, action: str) -> None:
        """Attestations (signing, completing) wait for a normal login: a grant lets
        people document care, not sign for a role they may not hold."""
        if self.emergency is not None:
            raise PermissionDenied(f"{self.user.username} may not {action} under emergency "
                                   "access; do it after a normal login")
