"""A whole session record as domain objects: what the session screen shows and what the
PDF prints, built in one place (services.record.load_record) so both always agree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ketalog.domain import dosing
from ketalog.domain.acknowledgements import Acknowledgement
from ketalog.domain.allergies import Allergy
from ketalog.domain.entities import (
    Addendum,
    AdjunctMedication,
    DoseEvent,
    FollowUp,
    InfusionSession,
    Note,
    Patient,
    Protocol,
    Score,
    SideEffect,
    Signature,
    User,
    VitalsReading,
)
from ketalog.domain.series import TreatmentSeries


@dataclass(frozen=True)
class SessionRecord:
    session: InfusionSession
    patient: Patient
    protocol: Protocol | None
    vitals: tuple[VitalsReading, ...]
    doses: tuple[DoseEvent, ...]
    adjuncts: tuple[AdjunctMedication, ...]
    side_effects: tuple[SideEffect, ...]
    scores: tuple[Score, ...]
    notes: tuple[Note, ...]
    signatures: tuple[Signature, ...]
    addenda: tuple[Addendum, ...]
    follow_ups: tuple[FollowUp, ...]
    users: dict[int, User]
    series: TreatmentSeries | None = None
    acknowledgements: tuple[Acknowledgement, ...] = ()
    allergies: tuple[Allergy, ...] = ()  # entries plus free-text pieces not among them

    def acknowledgements_of(self, subject_uuid: str) -> tuple[Acknowledgement, ...]:
        return tuple(a for a in self.acknowledgements if a.subject_uuid == subject_uuid)

    @property
    def series_text(self) -> str:
        """'Induction 3 of 6' (the kind only when the session belongs to a series)."""
        s = self.session
        kind = self.series.kind.value.capitalize() if self.series else "Series"
        return f"{kind} {s.series_number} of {s.series_total}"

    def total_mg(self, now: datetime) -> float:
        """The session's ketamine total (dosing.session_total_mg): every bolus, every run."""
        return dosing.session_total_mg(self.doses, now)

    def running_total_mg(self, at: datetime) -> float:
        return dosing.running_total_mg(self.doses, at)

    @property
    def infusion_state(self) -> str:
        return dosing.infusion_state(self.doses)

    def user_name(self, user_id: int | None) -> str:
        user = self.users.get(user_id) if user_id is not None else None
        if user is None:
            return "-"
        return user.signed_name
