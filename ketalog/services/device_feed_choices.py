"""What the quarantine dialog offers: the open sessions a message may be assigned to."""

from __future__ import annotations

from dataclasses import dataclass

from ketalog.services.context import RECORD_READERS, Context
from ketalog.services.errors import service_boundary
from ketalog.store import sessions as sessions_store
from ketalog.store.device_messages import OPEN_STATUSES


@dataclass(frozen=True)
class SessionChoice:
    session_id: int
    label: str


@service_boundary
def open_session_choices(ctx: Context) -> list[SessionChoice]:
    """Open sessions, newest first, labelled with both patient identifiers and the chair."""
    ctx.require(*RECORD_READERS, action="see the open sessions")
    store = ctx.store
    listed = sessions_store.listing(store, statuses=list(OPEN_STATUSES))
    choices = []
    for s in reversed(listed):
        when = s.began_at.astimezone().strftime("%Y-%m-%d %H:%M")
        chair = f" · {s.session.chair}" if s.session.chair else ""
        choices.append(SessionChoice(
            s.session_id, f"{s.patient.name} · MRN {s.patient.mrn} · "
                          f"DOB {s.patient.birth_date.isoformat()}{chair} · {when} · "
                          f"session {s.session_id}"))
    return choices
