"""When a session's follow-up calls are due, so the course view can say "72 h call due
now" and the nurse does not have to work it out from dates.

Window rule (also in docs/architecture.md):

- Each scheduled interval ``h`` (clinic-set; default 24 h, 72 h, 7 days) is due at
  ``anchor + h`` where the anchor is the infusion end (its start if no end was recorded,
  the same anchor ``add_follow_up`` checks against).
- Its window is ``due +- tolerance_pct % of h`` (default 25 %: 18-30 h, 54-90 h,
  126-210 h), so a window widens with the interval as call-back practice does. The
  window closes early when the patient's next infusion starts: after that a score
  measures the next infusion, not this one.
- A follow-up fills at most one slot. Slots are filled in interval order, each taking
  the unused follow-up inside its window nearest its due time (the earlier on a tie).
- Status at ``now``: ``done`` when filled; otherwise ``not needed`` when the next
  infusion started at or before the due time; otherwise ``upcoming`` before the window
  opens, ``due`` while it is open, ``overdue`` once it has closed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from ketalog.domain.clock import require_aware
from ketalog.domain.entities import FollowUp
from ketalog.domain.errors import PlausibilityError

DEFAULT_FOLLOW_UP_HOURS: tuple[float, ...] = (24.0, 72.0, 168.0)
DEFAULT_TOLERANCE_PCT = 25.0


class SlotStatus(StrEnum):
    DONE = "done"
    DUE = "due"
    OVERDUE = "overdue"
    UPCOMING = "upcoming"
    NOT_NEEDED = "not needed"


@dataclass(frozen=True)
class FollowUpSchedule:
    """Intervals after the infusion end (sorted, unique, > 0) and the window half-width
    as a percentage of each interval. Validated here so a bad clinic setting fails loudly
    instead of producing windows that never open."""

    hours: tuple[float, ...] = DEFAULT_FOLLOW_UP_HOURS
    tolerance_pct: float = DEFAULT_TOLERANCE_PCT

    def __post_init__(self) -> None:
        hours = tuple(sorted({float(h) for h in self.hours}))
        if not hours or not all(math.isfinite(h) and h > 0 for h in hours):
            raise PlausibilityError.single("follow_up_hours", self.hours, "at least one, each > 0",
                                           "Follow-up intervals need at least one positive value")
        if not (math.isfinite(self.tolerance_pct) and 0 < self.tolerance_pct < 100):
            raise PlausibilityError.single("tolerance_pct", self.tolerance_pct, "0-100 exclusive",
                                           "Follow-up window tolerance must be between 0 and 100 %")
        object.__setattr__(self, "hours", hours)


@dataclass(frozen=True)
class ScheduledFollowUp:
    """One scheduled call for one session and what became of it."""

    session_id: int
    interval_h: float
    due_at: datetime
    opens_at: datetime
    closes_at: datetime  # already closed early by the next infusion, if any
    status: SlotStatus
    follow_up: FollowUp | None = None  # the follow-up that filled the slot

    @property
    def label(self) -> str:
        """"24 h", "72 h", "7 d": how clinics name the calls."""
        h = self.interval_h
        return f"{h / 24:g} d" if h >= 168 and h % 24 == 0 else f"{h:g} h"


def schedule_follow_ups(session_id: int, anchor: datetime, follow_ups: Sequence[FollowUp],
                        schedule: FollowUpSchedule, now: datetime,
                        next_infusion_start: datetime | None = None
                        ) -> tuple[ScheduledFollowUp, ...]:
    """The session's slots at ``now`` (see module docstring). ``follow_ups`` are this
    session's; those outside every window are simply not used."""
    require_aware(anchor)
    require_aware(now)
    unused = sorted(follow_ups, key=lambda f: (f.at, f.id or 0))
    slots: list[ScheduledFollowUp] = []
    for hours in schedule.hours:
        due = anchor + timedelta(hours=hours)
        half = timedelta(hours=hours * schedule.tolerance_pct / 100)
        opens, closes = due - half, due + half
        if next_infusion_start is not None and next_infusion_start < closes:
            closes = max(opens, next_infusion_start)
        inside = [f for f in unused if opens <= f.at <= closes
                  and (next_infusion_start is None or f.at < next_infusion_start)]
        match = min(inside, key=lambda f: abs(f.at - due), default=None)
        if match is not None:
            unused.remove(match)
            status = SlotStatus.DONE
        elif next_infusion_start is not None and next_infusion_start <= due:
            status = SlotStatus.NOT_NEEDED
        elif now < opens:
            status = SlotStatus.UPCOMING
        elif now <= closes:
            status = SlotStatus.DUE
        else:
            status = SlotStatus.OVERDUE
        slots.append(ScheduledFollowUp(session_id, hours, due, opens, closes, status, match))
    return tuple(slots)
