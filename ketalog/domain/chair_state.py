"""What is happening at the chair, in the words the nurses use: arrived, infusing, paused,
stopped/observing (infusion over, patient still in the chair, minutes since the last
ketamine dose), completed, signed. The header, the Today board and the PDF all use it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ketalog.domain import dosing
from ketalog.domain.entities import SessionStatus


class ChairState(StrEnum):
    ARRIVED = "arrived"
    INFUSING = "infusing"
    PAUSED = "paused"
    OBSERVING = "observing"
    COMPLETED = "completed"
    SIGNED = "signed"


@dataclass(frozen=True)
class SessionState:
    state: ChairState
    minutes_since_last_dose: int | None  # observing (or a pause) only

    @property
    def text(self) -> str:
        if self.state is ChairState.OBSERVING:
            since = ("" if self.minutes_since_last_dose is None
                     else f", {self.minutes_since_last_dose} min since last dose")
            return f"stopped — observing{since}"
        if self.state is ChairState.PAUSED:
            return "infusion paused"
        return {ChairState.ARRIVED: "arrived, not infusing", ChairState.INFUSING: "infusing",
                ChairState.COMPLETED: "completed (awaiting signature)",
                ChairState.SIGNED: "signed"}[self.state]


def session_state(status: SessionStatus | str, events: Sequence[dosing.DoseLike],
                  now: datetime) -> SessionState:
    status = SessionStatus(status)
    if status is SessionStatus.SIGNED:
        return SessionState(ChairState.SIGNED, None)
    if status is SessionStatus.COMPLETED:
        return SessionState(ChairState.COMPLETED, None)
    infusion = dosing.infusion_state(events)
    if infusion == "running":
        return SessionState(ChairState.INFUSING, None)
    last = dosing.last_dose_at(events)
    minutes = None if last is None else max(0, int((now - last).total_seconds() // 60))
    if infusion == "paused":
        return SessionState(ChairState.PAUSED, minutes)
    if infusion == "stopped":
        return SessionState(ChairState.OBSERVING, minutes)
    return SessionState(ChairState.ARRIVED, minutes)
