"""What the quarantine dialog offers: the open sessions a message may be assigned to."""

from __future__ import annotations

from dataclasses import dataclass

from ketalog.domain.clock import from_iso
from ketalog.domain.entities import patient_name
from ketalog.services.context import RECORD_READERS, Context
from ketalog.services.errors import service_boundary
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
    rows = store.session_listing(statuses=list(OPEN_STATUSES))
    choices = []
    for r in reversed(rows):
        started = r["infusion_start_at"] or r["created_at"]
        when = from_iso(str(started)).astimezone().strftime("%Y-%m-%d %H:%M")
        chair = f" · {r['chair']}" if r["chair"] else ""
        choices.append(SessionChoice(int(r["id"]),  # type: ignore[call-overload]
                                     f"{patient_name(r['family_name'], r['given_name'])} · MRN {r['mrn']} · "
                                     f"DOB {r['birth_date']}{chair} · {when} · session {r['id']}"))
    return choices
