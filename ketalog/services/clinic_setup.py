"""A new clinic: its first admin, its name and the protocols of the clinical reference,
in the order the first run needs them (nobody can log in yet, so the system seeds)."""

from __future__ import annotations

from ketalog.domain.clock import Clock
from ketalog.domain.entities import User
from ketalog.services.auth import bootstrap_admin
from ketalog.services.errors import service_boundary
from ketalog.services.protocols import seed_protocols
from ketalog.store.store import SYSTEM, Store


@service_boundary
def create_clinic(store: Store, clock: Clock, admin: str, password: str, *,
                  display_name: str = "", clinic_name: str = "") -> tuple[User, int]:
    """The first admin and the seeded protocols; returns the admin and how many were
    seeded. Refused (ServiceError) on a database that already has or had accounts."""
    user = bootstrap_admin(store, clock, admin, password, display_name=display_name or admin,
                           clinic_name=clinic_name)
    return user, seed_protocols(store, SYSTEM)
