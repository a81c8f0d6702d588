"""Quarantined monitor messages: a nurse looks at why a message was not stored and
either assigns it to an open session (its readings then pass the same checks as any
entry, attributed to her, with the device as source) or discards it with a reason.
Both are audited; the raw text stays in the ledger either way."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ketalog.domain.clock import from_iso, to_iso
from ketalog.domain.entities import Role
from ketalog.domain.errors import PlausibilityError
from ketalog.interop.hl7_errors import Hl7Error
from ketalog.interop.hl7_oru import parse_oru
from ketalog.services.context import Context
from ketalog.services.device_feed import DEVICE_PREFIX, app_name
from ketalog.services.errors import InvalidState, ServiceError, service_boundary
from ketalog.services.sessions import vitals_row
from ketalog.store import vitals as vitals_store
from ketalog.store.device_messages import DeviceMessage, message, messages, update_message

HANDLERS = (Role.NURSE, Role.PROVIDER)


@dataclass(frozen=True)
class QuarantinedMessage:
    id: int
    received_at: datetime
    sending_app: str
    control_id: str
    ack_code: str
    reason: str
    raw: str


@service_boundary
def quarantined(ctx: Context, limit: int = 500) -> list[QuarantinedMessage]:
    ctx.require(*HANDLERS, Role.ADMIN, action="see quarantined monitor messages")
    return [QuarantinedMessage(m.id, from_iso(m.received_at), m.sending_app, m.control_id,
                               m.ack_code, m.reason, m.raw)
            for m in messages(ctx.store, "quarantined", limit)]


def _pending(ctx: Context, message_id: int) -> DeviceMessage:
    found = message(ctx.store, message_id)
    if found is None:
        raise ServiceError(f"no monitor message with id {message_id}")
    if found.status != "quarantined":
        raise InvalidState(f"monitor message {message_id} is already {found.status}")
    return found


@service_boundary
def assign_quarantined(ctx: Context, message_id: int, session_id: int,
                       note: str = "") -> list[int]:
    """Store the message's readings in `session_id`; returns the new vitals ids."""
    ctx.require(*HANDLERS, action="assign monitor messages to sessions")
    pending = _pending(ctx, message_id)
    if pending.part_of is not None:
        raise InvalidState("the message's other values are already stored (message "
                           f"{pending.part_of}); what was refused here cannot be assigned. "
                           "Enter a correct value by hand if there is one, then discard this")
    try:
        oru = parse_oru(pending.raw)
    except Hl7Error as exc:
        raise ServiceError(f"this message cannot be read, so it cannot be assigned ({exc}); "
                           "discard it") from exc
    if not oru.readings:
        raise ServiceError("this message holds no vital signs ketalog records; discard it")
    now = ctx.clock.now()
    source = DEVICE_PREFIX + app_name(oru.header)
    rows = [vitals_row(ctx.store, now, session_id, r.values, r.at, source, ctx.user.id)
            for r in oru.readings]  # PlausibilityError / InvalidState go to the caller
    reason = f"assigned from quarantined HL7 {oru.header.control_id}: {note.strip()}"
    with ctx.store.write(ctx.actor) as w:
        ids = [vitals_store.insert(w, r, reason=reason.rstrip(": ")) for r in rows]
        update_message(w, message_id, {
            "status": "assigned", "session_id": session_id, "readings": len(ids),
            "resolved_at": to_iso(now), "resolved_by": ctx.user.id,
            "resolution_note": note.strip()}, reason=reason.rstrip(": "))
    return ids


@service_boundary
def discard_quarantined(ctx: Context, message_id: int, reason: str) -> None:
    ctx.require(*HANDLERS, action="discard monitor messages")
    if not reason.strip():
        raise PlausibilityError.single("reason", reason, "required",
                                       "Give a reason for discarding the monitor message")
    _pending(ctx, message_id)
    with ctx.store.write(ctx.actor) as w:
        update_message(w, message_id, {
            "status": "discarded", "resolved_at": to_iso(ctx.clock.now()),
            "resolved_by": ctx.user.id, "resolution_note": reason.strip()},
            reason=reason.strip())
