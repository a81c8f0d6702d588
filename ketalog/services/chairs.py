"""Who sits in which chair: open sessions (arrived or infusing) by chair. The start dialog
proposes a free chair and names whoever is in the one chosen; the monitor feed matches
readings to a session by chair, so two patients in one chair is a real hazard."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ketalog.services.context import RECORD_READERS, Context
from ketalog.services.device_feed import chair_key
from ketalog.services.errors import service_boundary
from ketalog.store import sessions as sessions_store
from ketalog.store.store import Store

OPEN = ("draft", "in_progress")
STATUS_WORDS = {"draft": "arrived", "in_progress": "infusing"}


@dataclass(frozen=True)
class Occupant:
    session_id: int
    chair: str
    patient: str  # 'SURNAME, Given'
    mrn: str
    status: str

    @property
    def text(self) -> str:
        return (f"{self.patient} (MRN {self.mrn}), {STATUS_WORDS.get(self.status, self.status)}"
                f", session {self.session_id}")


def _occupants(store: Store) -> list[Occupant]:
    return [Occupant(s.session_id, s.session.chair, s.patient.name, s.patient.mrn,
                     s.session.status.value)
            for s in sessions_store.listing(store, statuses=OPEN) if s.session.chair.strip()]


@service_boundary
def occupants_of(ctx: Context, chair: str) -> list[Occupant]:
    """Who is in `chair` now (open sessions), with both identifiers."""
    ctx.require(*RECORD_READERS, action="see who is in a chair")
    key = chair_key(chair)
    return [o for o in _occupants(ctx.store) if key and chair_key(o.chair) == key]


@service_boundary
def first_free(ctx: Context, chairs: Sequence[str]) -> str | None:
    ctx.require(*RECORD_READERS, action="see which chairs are free")
    taken = {chair_key(o.chair) for o in _occupants(ctx.store)}
    return next((c for c in chairs if chair_key(c) not in taken), None)
