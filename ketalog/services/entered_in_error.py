"""Entered in error: an entry made by mistake is struck through with a reason, by whom and
when, never deleted; it then counts in no total or summary. Only while the session still
takes entries (a completed one is reopened first; a signed one takes an addendum).
Follow-ups sit outside the signature and can be struck at any time."""

from __future__ import annotations

from enum import StrEnum

from ketalog.domain import dosing
from ketalog.domain.clock import to_iso
from ketalog.domain.entities import DoseKind
from ketalog.domain.errors import PlausibilityError
from ketalog.services.context import Context
from ketalog.services.errors import InvalidState, ServiceError, service_boundary
from ketalog.services.sessions import CLINICAL, dose_events, get_session, open_for_entries
from ketalog.store import sessions as sessions_store
from ketalog.store import strikes


class EntryKind(StrEnum):
    DOSE = "dose_events"
    ADJUNCT = "adjunct_medications"
    SIDE_EFFECT = "side_effects"
    SCORE = "scores"
    NOTE = "notes"
    FOLLOW_UP = "follow_ups"


LABELS = {EntryKind.DOSE: "dose event", EntryKind.ADJUNCT: "medication",
          EntryKind.SIDE_EFFECT: "side effect", EntryKind.SCORE: "score",
          EntryKind.NOTE: "note", EntryKind.FOLLOW_UP: "follow-up"}


@service_boundary
def strike_entry(ctx: Context, kind: EntryKind | str, entry_id: int, reason: str) -> None:
    """Mark one entry as entered in error (audited as an update with the reason)."""
    ctx.require(*CLINICAL, action="mark entries as entered in error")
    kind = EntryKind(kind)
    label = LABELS[kind]
    why = reason.strip()
    if not why:
        raise PlausibilityError.single("struck_reason", reason, "required",
                                       f"Give a reason for marking the {label} as entered "
                                       "in error")
    entry = strikes.target(ctx.store, kind.value, entry_id)
    if entry is None:
        raise ServiceError(f"no {label} with id {entry_id}")
    session_id = entry.session_id
    if kind is EntryKind.FOLLOW_UP:
        get_session(ctx.store, session_id)
    else:
        open_for_entries(ctx.store, session_id)  # signed: an addendum; completed: reopen
    if entry.struck:
        raise InvalidState(f"this {label} is already marked entered in error "
                           f"({entry.struck_reason})")
    session_changes: dict[str, object] = {}
    if kind is EntryKind.DOSE:
        session_changes = _infusion_times_without(ctx, session_id, entry_id)
    with ctx.store.write(ctx.actor) as w:
        strikes.strike(w, kind.value, entry_id, why, to_iso(ctx.clock.now()), ctx.user.id)
        if session_changes:
            sessions_store.update(w, session_id, session_changes, reason=why)


def _infusion_times_without(ctx: Context, session_id: int, entry_id: int) -> dict[str, object]:
    """The session's start and end once the event is struck; refuses a strike that would
    leave an impossible sequence (e.g. a stop with no start before it)."""
    remaining = [e for e in dose_events(ctx.store, session_id) if e.id != entry_id]
    try:
        state = dosing.validate_timeline(remaining)
    except PlausibilityError as exc:
        raise InvalidState("striking this event would leave an impossible infusion sequence "
                           f"({exc}); strike the later events first") from exc
    live = dosing.live_events(remaining)
    starts = [e.at for e in live if e.kind is DoseKind.START]
    end = dosing.infusion_end(live) if state == "stopped" else None
    return {"infusion_start_at": to_iso(min(starts)) if starts else None,
            "infusion_end_at": to_iso(end) if end else None}
