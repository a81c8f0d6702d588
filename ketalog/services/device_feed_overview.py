"""What the feed dialog shows an admin per monitor: messages received, the last one, how
far its clock ran ahead, and the observation codes it sent that the code map does not
know (so a clinic can add them instead of losing them silently)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ketalog.domain.clock import from_iso, to_iso
from ketalog.domain.entities import Role
from ketalog.services.context import Context
from ketalog.services.errors import service_boundary
from ketalog.store.device_messages import messages_by_source

WINDOW = timedelta(days=7)


@dataclass
class MonitorSummary:
    source: str
    messages: int = 0
    quarantined: int = 0
    last_at: datetime | None = None
    clock_ahead_s: float | None = None  # of its last message that carried a reading time
    unknown: Counter[str] = field(default_factory=Counter)


@service_boundary
def monitor_overview(ctx: Context, window: timedelta = WINDOW) -> list[MonitorSummary]:
    ctx.require(Role.ADMIN, action="see the monitor feed overview")
    summaries: dict[str, MonitorSummary] = {}
    for row in messages_by_source(ctx.store, to_iso(ctx.clock.now() - window)):
        name = row.source or row.sending_app or "unknown"
        s = summaries.setdefault(name, MonitorSummary(name))
        s.messages += 1
        s.quarantined += row.status == "quarantined"
        s.last_at = from_iso(row.received_at)
        if row.clock_ahead_s is not None:
            s.clock_ahead_s = row.clock_ahead_s
        try:
            s.unknown.update(json.loads(row.unknown_codes or "[]"))
        except ValueError:
            pass
    return sorted(summaries.values(), key=lambda s: s.source)


@service_boundary
def unknown_total(summaries: list[MonitorSummary]) -> Counter[str]:
    total: Counter[str] = Counter()
    for s in summaries:
        total.update(s.unknown)
    return total
