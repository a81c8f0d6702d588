"""New vitals of a session since the last look: how a session window sees readings the
monitor feed's listener stored on its own connection. Light to import (no python-hl7)."""

from __future__ import annotations

from datetime import datetime

from ketalog.domain.clock import from_iso
from ketalog.domain.entities import VitalsReading
from ketalog.services.context import RECORD_READERS, Context
from ketalog.services.errors import service_boundary
from ketalog.store.device_messages import device_reading_times, vitals_after
from ketalog.store.records import vitals_from_row


@service_boundary
def vitals_since(ctx: Context, session_id: int, after_id: int) -> list[VitalsReading]:
    """Readings added to a session after `after_id` (a primary-key range query)."""
    ctx.require(*RECORD_READERS, action="see a session's vitals")
    return [vitals_from_row(r) for r in vitals_after(ctx.store, session_id, after_id)]


@service_boundary
def device_times(ctx: Context, session_id: int) -> list[datetime]:
    """When the monitor feed's readings of a session were taken."""
    ctx.require(*RECORD_READERS, action="see a session's vitals")
    return [from_iso(t) for t in device_reading_times(ctx.store, session_id)]
