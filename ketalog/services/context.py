"""Who is acting. Every service call carries the logged-in user; permissions are checked
here, in the services, not merely by hiding buttons."""

from __future__ import annotations

from dataclasses import dataclass

from ketalog.domain.clock import Clock
from ketalog.domain.entities import Role, User
from ketalog.services.errors import PermissionDenied
from ketalog.store.store import Actor, Store


@dataclass(frozen=True)
class Context:
    store: Store
    clock: Clock
    user: User

    @property
    def actor(self) -> Actor:
        return Actor(self.user.id, self.user.username)

    def require(self, *roles: Role, action: str) -> None:
        if not any(self.user.has_role(r) for r in roles):
            needed = " or ".join(r.value for r in roles)
            raise PermissionDenied(f"{self.user.username} may not {action} (needs role {needed})")
