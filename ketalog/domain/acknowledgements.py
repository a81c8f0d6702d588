"""What a nurse acknowledged during a session: an allergy or formulary warning on a
medication (with the reason to give it anyway), or an alarm on a reading (with the
action taken). Stored beside the entry it concerns, printed and exported with it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

KINDS: tuple[str, ...] = ("allergy", "formulary", "alarm")


@dataclass(frozen=True)
class Acknowledgement:
    id: int | None
    uuid: str
    session_id: int
    at: datetime
    kind: str  # allergy | formulary | alarm
    subject_table: str  # adjunct_medications | dose_events | vitals
    subject_uuid: str
    warning: str
    source: str
    response: str  # the reason given, or the action taken for an alarm
    entered_by: int | None = None

    @property
    def response_label(self) -> str:
        return "action taken" if self.kind == "alarm" else "reason"
