"""The clinical record as frozen dataclasses. Units are in the field names; storage
uses the same canonical units (mg, mg/h, kg, mmHg, degrees C, UTC times)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class Role(StrEnum):
    NURSE = "nurse"
    PROVIDER = "provider"
    ADMIN = "admin"


class SessionStatus(StrEnum):
    DRAFT = "draft"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    SIGNED = "signed"


class DoseKind(StrEnum):
    BOLUS = "bolus"
    START = "start"
    RATE_CHANGE = "rate_change"
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"


class Phase(StrEnum):
    PRE = "pre"
    INTRA = "intra"
    POST = "post"
    FOLLOW_UP = "follow-up"


class Severity(StrEnum):
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


SIDE_EFFECT_KINDS: tuple[str, ...] = (
    "nausea", "vomiting", "dizziness", "hypertension", "tachycardia", "dissociation",
    "hallucinations", "anxiety", "emergence reaction", "sedation", "diplopia",
    "hypersalivation", "IV site", "other",
)

ADJUNCT_DRUGS: tuple[str, ...] = ("ondansetron", "midazolam", "clonidine", "labetalol")

VITAL_FIELDS: tuple[str, ...] = (
    "sbp_mmhg", "dbp_mmhg", "map_mmhg", "hr_bpm", "spo2_pct", "rr_per_min",
    "etco2_mmhg", "temp_c",
)


@dataclass(frozen=True)
class User:
    """A stored account: users are only ever made from their row, so the id is always
    there (a session, signature or audit entry can name it without a check)."""

    id: int
    username: str
    display_name: str
    credentials: str = ""
    roles: frozenset[Role] = frozenset()
    failed_logins: int = 0
    locked: bool = False
    active: bool = True

    def has_role(self, role: Role) -> bool:
        return role in self.roles

    @property
    def signed_name(self) -> str:
        """How the user appears on records and signatures: "Dr. Ann Lee, MD"."""
        return f"{self.display_name}, {self.credentials}" if self.credentials \
            else self.display_name


def patient_name(family_name: object, given_name: object) -> str:
    """'NÚÑEZ, Zoë': the one casing every screen, list and page uses (the family name in
    capitals, so it cannot be read as the given name)."""
    return f"{str(family_name).upper()}, {given_name}"


@dataclass(frozen=True)
class Patient:
    id: int | None
    uuid: str
    mrn: str
    family_name: str
    given_name: str
    birth_date: date
    sex: str = "unknown"
    allergies: str = ""
    indication: str = ""
    referring_provider: str = ""
    contraindication_screen: str = ""
    consent_date: date | None = None
    notes: str = ""

    @property
    def display_name(self) -> str:
        return patient_name(self.family_name, self.given_name)

    def age_on(self, day: date) -> int:
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years


@dataclass(frozen=True)
class Protocol:
    id: int | None
    uuid: str
    name: str
    indication: str
    bolus_mg_per_kg: float
    rate_mg_per_kg_per_h: float
    duration_min: int
    series_length: int
    max_total_mg: float | None
    monitoring_interval_min: int
    retired: bool = False


@dataclass(frozen=True)
class Bag:
    drug: str
    concentration_mg_per_ml: float
    volume_ml: float
    lot: str = ""
    expiry: date | None = None

    @property
    def total_mg(self) -> float:
        return self.concentration_mg_per_ml * self.volume_ml


@dataclass(frozen=True)
class RecordedCheck:
    """A discharge-readiness check as made at Complete, with the nurse's reason for
    discharging anyway when it failed."""

    code: str
    passed: bool
    message: str
    source: str
    acknowledged: str | None = None


@dataclass(frozen=True)
class InfusionSession:
    id: int | None
    uuid: str
    patient_id: int
    protocol_id: int | None
    series_number: int
    series_total: int
    chair: str
    nurse_id: int | None
    provider_id: int | None
    weight_kg: float
    bag: Bag
    status: SessionStatus = SessionStatus.DRAFT
    arrival_at: datetime | None = None
    infusion_start_at: datetime | None = None
    infusion_end_at: datetime | None = None
    discharge_at: datetime | None = None
    discharge_escort: str = ""
    discharge_instructions: str = ""
    series_id: int | None = None  # the treatment series it belongs to (None: before series)
    discharge_readiness: tuple[RecordedCheck, ...] = ()  # empty: completed before checks


@dataclass(frozen=True)
class VitalsReading:
    id: int | None
    uuid: str
    session_id: int
    at: datetime
    sbp_mmhg: float | None = None
    dbp_mmhg: float | None = None
    map_mmhg: float | None = None
    map_derived: bool = False
    hr_bpm: float | None = None
    spo2_pct: float | None = None
    rr_per_min: float | None = None
    etco2_mmhg: float | None = None
    temp_c: float | None = None
    source: str = "manual"
    alerts: tuple[str, ...] = ()
    late_entry: bool = False
    artifact: bool = False
    artifact_reason: str = ""


@dataclass(frozen=True)
class DoseEvent:
    id: int | None
    uuid: str
    session_id: int
    at: datetime
    kind: DoseKind
    bolus_mg: float | None = None
    rate_mg_per_h: float | None = None
    weight_kg: float | None = None
    reason: str = ""
    acknowledged_warnings: tuple[str, ...] = ()
    struck_reason: str = ""  # entered in error: struck through, never deleted
    struck_at: datetime | None = None
    struck_by: int | None = None


@dataclass(frozen=True)
class AdjunctMedication:
    id: int | None
    uuid: str
    session_id: int
    at: datetime
    drug: str
    dose: float
    unit: str
    route: str
    reason: str = ""
    struck_reason: str = ""  # entered in error: struck through, never deleted
    struck_at: datetime | None = None
    struck_by: int | None = None


@dataclass(frozen=True)
class Score:
    id: int | None
    uuid: str
    session_id: int
    at: datetime
    scale: str
    value: int
    phase: Phase
    items: dict[str, int] = field(default_factory=dict)
    struck_reason: str = ""  # entered in error: struck through, never deleted
    struck_at: datetime | None = None
    struck_by: int | None = None


@dataclass(frozen=True)
class SideEffect:
    id: int | None
    uuid: str
    session_id: int
    onset_at: datetime
    kind: str
    severity: Severity
    action: str = ""
    resolved_at: datetime | None = None
    note: str = ""
    struck_reason: str = ""  # entered in error: struck through, never deleted
    struck_at: datetime | None = None
    struck_by: int | None = None


@dataclass(frozen=True)
class Note:
    id: int | None
    uuid: str
    session_id: int
    at: datetime
    author_id: int
    text: str
    struck_reason: str = ""  # entered in error: struck through, never deleted
    struck_at: datetime | None = None
    struck_by: int | None = None


@dataclass(frozen=True)
class FollowUp:
    id: int | None
    uuid: str
    session_id: int
    at: datetime
    nrs: int | None
    relief_hours: float | None = None
    phq9: int | None = None
    source: str = "phone"
    note: str = ""
    struck_reason: str = ""  # entered in error: struck through, never deleted
    struck_at: datetime | None = None
    struck_by: int | None = None
    phq9_items: dict[str, int] = field(default_factory=dict)  # empty: none or total only
    phq9_total_only: bool = False
    safety_ack_at: datetime | None = None
    safety_ack_by: int | None = None
    safety_ack_note: str = ""

    @property
    def safety_flag(self) -> bool:
        """PHQ-9 item 9 (thoughts of death or self-harm) above 0, not struck."""
        return not self.struck_reason and self.phq9_items.get("item_9", 0) > 0

    @property
    def safety_open(self) -> bool:
        """Flagged and no clinician has acknowledged it yet."""
        return self.safety_flag and self.safety_ack_at is None


@dataclass(frozen=True)
class Signature:
    id: int | None
    uuid: str
    session_id: int
    user_id: int
    at: datetime
    meaning: str
    content_hash: str


@dataclass(frozen=True)
class Addendum:
    id: int | None
    uuid: str
    session_id: int
    author_id: int
    at: datetime
    reason: str
    text: str


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    user_id: int | None
    username: str
    action: str
    table_name: str
    row_uuid: str
    old_values: dict[str, object] | None
    new_values: dict[str, object] | None
    reason: str
    prev_hash: str
    entry_hash: str
