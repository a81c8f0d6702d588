"""A demo clinic: six months of realistic, deterministic records for trying ketalog,
training staff and taking screenshots.

Everything is generated in memory first (pure, from one seeded RNG), then written
through the store's audited bulk path (Writer.insert for sessions, Writer.insert_many
for their child rows) so the result is exactly as trustworthy as data entered by
hand: signatures hash the same content the services would hash, the audit chain is
intact and `ketalog verify` passes."""

from __future__ import annotations

import json
import math
import random
import uuid as uuidlib
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from ketalog.domain import dosing
from ketalog.domain.alerts import AlertThresholds
from ketalog.domain.clock import Clock, to_iso
from ketalog.domain.entities import DoseEvent, DoseKind, Phase, Protocol, Role, SessionStatus
from ketalog.domain.plausibility import validate_vitals
from ketalog.domain.scales import SCALES, aldrete_circulation_item, aldrete_spo2_item
from ketalog.domain.signing import SigningKey
from ketalog.domain.vitals import derive_map_mmhg
from ketalog.services.auth import add_user, bootstrap_admin
from ketalog.services.context import Context
from ketalog.services.errors import ServiceError, service_boundary
from ketalog.services.patients import PatientInput, validate_patient
from ketalog.services.protocols import seed_protocols
from ketalog.services.sessions import NURSE_SIGNATURE, PROVIDER_SIGNATURE
from ketalog.services.settings import alert_thresholds_without_login
from ketalog.services.signing_keys import open_key, session_signature
from ketalog.store import adjunct_medications as adjuncts_store
from ketalog.store import doses as doses_store
from ketalog.store import follow_ups as follow_ups_store
from ketalog.store import notes as notes_store
from ketalog.store import patients as patient_rows
from ketalog.store import protocols as protocol_rows
from ketalog.store import scores as scores_store
from ketalog.store import series as series_store
from ketalog.store import sessions as sessions_store
from ketalog.store import side_effects as side_effects_store
from ketalog.store import signatures as signatures_store
from ketalog.store import users as user_rows
from ketalog.store import vitals as vitals_store
from ketalog.store.store import Actor, Store, Writer
from ketalog.store.values import as_float

DEMO_CLINIC_NAME = "Riverside Ketamine Infusion Clinic (demo)"
CHAIRS = ("Chair 1", "Chair 2", "Chair 3", "Chair 4")
CAPNOGRAPHY_CHAIRS = frozenset({"Chair 1", "Chair 2"})
HISTORY_DAYS = 182
MIN_SESSIONS = 160
PATIENT_COUNT = 24
INDICATION_MIX = (("neuropathic pain", 7), ("CRPS", 5), ("fibromyalgia", 6), ("depression", 6))

# username, display name, credentials, role (admin is created by bootstrap_admin).
STAFF: tuple[tuple[str, str, str, Role], ...] = (
    ("nurse", "Dana Reyes", "RN", Role.NURSE),
    ("nurse2", "Tomás Ferreira", "RN, BSN", Role.NURSE),
    ("provider", "Dr. Amir Haddad", "MD", Role.PROVIDER),
)

# The first two always appear, so the demo always shows non-ASCII names.
NAMES: tuple[tuple[str, str, str], ...] = (
    ("Zoë", "Lindqvist", "female"), ("Mateo", "Núñez", "male"),
    ("Amélie", "Dubois", "female"), ("José", "Hernández", "male"),
    ("Renée", "Fischer", "female"), ("Søren", "Madsen", "male"),
    ("Chloé", "Bernard", "female"), ("Björn", "Åberg", "male"),
    ("Margaret", "O'Brien", "female"), ("Daniel", "Okafor", "male"),
    ("Priya", "Raman", "female"), ("Thomas", "Müller", "male"),
    ("Aisling", "Ní Bhriain", "female"), ("Ethan", "Walker", "male"),
    ("Lucía", "García", "female"), ("Kwame", "Mensah", "male"),
    ("Hannah", "Schröder", "female"), ("Marcus", "Johnson", "male"),
    ("Linh", "Nguyễn", "female"), ("François", "Lefèvre", "male"),
    ("Grace", "Kim", "female"), ("Rafael", "Peña", "male"),
    ("Ingrid", "Solberg", "female"), ("Samuel", "Cohen", "male"),
    ("Fatima", "El-Amin", "female"), ("Oliver", "Brown", "male"),
    ("Noémie", "Gagnon", "female"), ("Andrzej", "Wiśniewski", "male"),
    ("Sarah", "Thompson", "female"), ("Dmitri", "Volkov", "male"),
)
ALLERGIES = ("penicillin", "sulfa drugs", "latex", "codeine (vomiting)", "penicillin; latex",
             "morphine (itching)", "iodinated contrast")
REFERRERS = {
    "neuropathic pain": ("Dr. L. Chen (pain medicine)", "Dr. R. Alvarez (neurology)"),
    "CRPS": ("Dr. L. Chen (pain medicine)", "Dr. K. Osei (orthopaedics)"),
    "fibromyalgia": ("Dr. M. Novak (rheumatology)", "Dr. K. Osei (primary care)"),
    "depression": ("Dr. S. Patel (psychiatry)", "Dr. H. Lund (psychiatry)"),
}
PATIENT_NOTES = ("", "", "", "Needle-anxious: numbing cream 30 min before cannulation.",
                 "Prefers a quiet chair, eye mask and own music.",
                 "Hard IV access: ask for ultrasound-guided cannulation if two attempts fail.",
                 "Works night shifts: morning slots only.")
ESCORTS = ("spouse", "partner", "daughter", "son", "friend", "mother", "sister", "brother")
IV_SITES = ("left forearm", "right forearm", "left antecubital fossa", "right hand",
            "left hand")
DISCHARGE_INSTRUCTIONS = (
    "No driving, cycling or operating machinery for 8 h; a responsible adult stays with you "
    "tonight; call the clinic for persistent nausea, confusion, chest pain or severe headache.")
# How many days apart a course's infusions are (then moved to the next weekday).
COURSE_GAPS = {"CRPS": (1, 1), "neuropathic pain": (2, 4), "fibromyalgia": (3, 7),
               "depression": (2, 4)}
FOLLOW_UP_DAYS = (1, 3, 7, 14)


@dataclass(frozen=True)
class DemoReport:
    """What was created, and the passwords needed to log in to it."""

    clinic_name: str
    passwords: dict[str, str]  # username -> password
    patients: int
    sessions: int
    signed: int
    in_progress_session_id: int | None
    vitals: int


@service_boundary
def demo_password(username: str, seed: int) -> str:
    """Deterministic so a trainer can hand them out; long enough for the password policy."""
    return f"demo-{username}-{seed}"


# --- the in-memory plan ---------------------------------------------------------------


@dataclass
class _Patient:
    """A patient plus the clinical state that carries from one infusion to the next."""

    index: int
    given_name: str
    family_name: str
    sex: str
    birth_date: date
    mrn: str
    indication: str
    protocol: Protocol
    weight_kg: float
    sbp: float
    dbp: float
    hr: float
    spo2: int
    rr: float
    pain0: float
    responder: bool
    nausea_prone: bool
    escort: str
    phq: float = 0.0
    last_kind: str = ""  # kind of the previous infusion's plan
    gain: float = 0.0  # accumulated pain relief over the series (NRS points)
    row: dict[str, object] = field(default_factory=dict)
    id: int = 0


@dataclass
class _Plan:
    patient: _Patient
    day: date
    series_number: int
    series_total: int
    kind: str  # course | booster | maintenance
    in_progress: bool = False
    severe_htn: bool = False
    desaturation: bool = False
    next_day: date | None = None


@dataclass
class _Built:
    """One generated session: its row, its children (without session_id) and how it ends."""

    plan: _Plan
    nurse: int
    row: dict[str, object]
    children: dict[str, list[dict[str, object]]]
    follow_ups: list[dict[str, object]]
    completed_at: datetime | None
    provider_sign_at: datetime | None
    id: int = 0


@dataclass
class _Dose:
    at: datetime
    kind: DoseKind
    bolus_mg: float | None = None
    rate_mg_per_h: float | None = None
    reason: str = ""


@dataclass
class _Haemodynamics:
    """The ketamine BP response: a gamma-shaped rise peaking at `tau` minutes after the
    start (CLINICAL.md: mean peak +16/+11 mmHg at 30-40 min, back to baseline ~1.5 h)."""

    start: datetime
    sbp: float
    dbp: float
    hr: float
    spo2: int
    rr: float
    rise_sbp: float
    rise_dbp: float
    rise_hr: float
    tau: float
    severe: bool = False
    treated_at: datetime | None = None
    capnography: bool = False

    def effect(self, at: datetime) -> float:
        t = (at - self.start).total_seconds() / 60.0
        if t <= 0:
            return 0.0
        value = (t / self.tau) * math.exp(1.0 - t / self.tau)
        if self.treated_at is not None and at > self.treated_at:
            since = (at - self.treated_at).total_seconds() / 60.0
            value *= max(0.25, math.exp(-since / 12.0))
        return value


def _weekday(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _pump_rate(mg_per_h: float) -> float:
    """Pumps take 0.1 mg/h steps; round up so 0.5 mg/kg/h never shows as 0.499."""
    return math.ceil(round(mg_per_h * 10, 6)) / 10


def _clip(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


class _Generator:
    """Builds the whole demo clinic from one seed, without touching the database."""

    def __init__(self, seed: int, now: datetime, protocols: Mapping[str, Protocol],
                 thresholds: AlertThresholds, nurses: tuple[int, int]) -> None:
        self.rng = random.Random(seed)
        # Separate stream for uuids (str seeds are hashed with SHA-512: stable across runs),
        # so clinical values do not shift when the number of rows changes.
        self.uuids = random.Random(f"ketalog-demo-uuid-{seed}")
        self.now = now
        self.today = now.date()
        self.protocols = protocols
        self.thresholds = thresholds
        self.nurses = nurses
        self.lots = self._lots()

    def uuid(self) -> str:
        return str(uuidlib.UUID(int=self.uuids.getrandbits(128), version=4))

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=UTC)

    # -- patients --------------------------------------------------------------------
    def patients(self) -> list[_Patient]:
        rng = self.rng
        names = list(NAMES[:2]) + rng.sample(NAMES[2:], PATIENT_COUNT - 2)
        indications = [ind for ind, n in INDICATION_MIX for _ in range(n)]
        rng.shuffle(indications)
        mrns = rng.sample(range(100, 999_999), PATIENT_COUNT)
        result = []
        for index, ((given, family, sex), indication) in enumerate(
                zip(names, indications, strict=True)):
            birth = self.today - timedelta(days=rng.randint(24 * 365, 74 * 365))
            high_bp = rng.random() < 0.25
            sbp = rng.uniform(132, 146) if high_bp else rng.uniform(108, 132)
            pain_patient = indication != "depression"
            patient = _Patient(
                index=index, given_name=given, family_name=family, sex=sex, birth_date=birth,
                mrn=f"K{mrns[index]:06d}", indication=indication,
                protocol=self.protocols[indication],
                weight_kg=round(rng.uniform(52, 116), 1), sbp=sbp,
                dbp=_clip(sbp * rng.uniform(0.58, 0.66), 62, 92), hr=rng.uniform(60, 86),
                spo2=rng.choice((97, 97, 98, 98, 99)), rr=rng.uniform(12, 17),
                pain0=rng.uniform(5.5, 8.8) if pain_patient else rng.uniform(0.5, 3.5),
                responder=rng.random() < 0.72, nausea_prone=rng.random() < 0.2,
                escort=rng.choice(ESCORTS),
                phq=0.0 if pain_patient else rng.uniform(16, 24))
            result.append(patient)
        return result

    def patient_row(self, patient: _Patient, first_day: date) -> dict[str, object]:
        rng = self.rng
        consent = first_day - timedelta(days=rng.randint(3, 14))
        screen = ("Screened: no uncontrolled hypertension, no psychosis or mania, no active "
                  "substance use disorder, no raised intracranial or intraocular pressure")
        if patient.sex == "female":
            screen += ", pregnancy test negative"
        screen += f"; clinic BP {round(patient.sbp)}/{round(patient.dbp)} mmHg."
        data = PatientInput(
            mrn=patient.mrn, family_name=patient.family_name, given_name=patient.given_name,
            birth_date=patient.birth_date, sex=patient.sex,
            allergies=rng.choice(ALLERGIES) if rng.random() < 0.35 else "",
            indication=patient.indication,
            referring_provider=rng.choice(REFERRERS[patient.indication]),
            contraindication_screen=screen, consent_date=consent,
            notes=("Nausea at earlier ketamine infusions elsewhere: ondansetron before start."
                   if patient.nausea_prone else rng.choice(PATIENT_NOTES)))
        row = validate_patient(data, self.today)
        registered = self.at(consent, 9, rng.randint(0, 59)) + timedelta(hours=rng.randint(0, 6))
        return {**row, "uuid": self.uuid(), "created_at": to_iso(min(registered, self.now))}

    # -- schedule --------------------------------------------------------------------
    def course_days(self, indication: str, start: date, n: int) -> list[date]:
        low, high = COURSE_GAPS[indication]
        day, days = _weekday(start), []
        for _ in range(n):
            days.append(day)
            day = _weekday(day + timedelta(days=self.rng.randint(low, high)))
        return days

    def schedule(self, patients: list[_Patient]) -> list[_Plan]:
        rng = self.rng
        window_start = self.today - timedelta(days=HISTORY_DAYS - 1)
        live = next(p for p in patients if p.protocol.duration_min >= 180)
        ongoing = {live.index} | {p.index for p in rng.sample(
            [p for p in patients if p is not live], 2)}
        plans: list[_Plan] = []
        for patient in patients:
            n = patient.protocol.series_length
            if patient is live:
                done = rng.randint(2, 4)
                days: list[date] = []
                day = self.today
                low, high = COURSE_GAPS[patient.indication]
                for _ in range(done):
                    day -= timedelta(days=rng.randint(low, high))
                    while day.weekday() >= 5:
                        day -= timedelta(days=1)
                    days.insert(0, day)
                mine = [_Plan(patient, d, k + 1, n, "course") for k, d in enumerate(days)]
                mine.append(_Plan(patient, self.today, done + 1, n, "course", in_progress=True))
                plans += mine
                continue
            if patient.index in ongoing:
                start = self.today - timedelta(days=rng.randint(6, 12))
            else:
                start = window_start + timedelta(days=rng.randint(0, HISTORY_DAYS - 40))
            days = [d for d in self.course_days(patient.indication, start, n) if d < self.today]
            mine = [_Plan(patient, d, k + 1, n, "course") for k, d in enumerate(days)]
            if patient.index not in ongoing and len(days) == n:
                mine += self.extra_sessions(patient, days[-1])
            plans += mine
        while len(plans) < MIN_SESSIONS:  # top up with boosters, rarely needed
            patient = rng.choice([p for p in patients if p.index not in ongoing])
            last = max(p.day for p in plans if p.patient is patient)
            day = _weekday(last + timedelta(days=rng.randint(14, 28)))
            if day < self.today:
                plans.append(_Plan(patient, day, 1, 1, "booster"))
            elif all(max(p.day for p in plans if p.patient is q) + timedelta(days=14)
                     >= self.today for q in patients if q.index not in ongoing):
                break
        plans.sort(key=lambda p: (p.day, p.patient.index))
        by_patient: dict[int, list[_Plan]] = defaultdict(list)
        for plan in plans:
            by_patient[plan.patient.index].append(plan)
        for mine in by_patient.values():
            for current, following in zip(mine, mine[1:], strict=False):
                current.next_day = following.day
        past = [i for i, p in enumerate(plans) if not p.in_progress]
        early = [i for i in past if plans[i].series_number <= 3 and plans[i].kind == "course"]
        severe = set(rng.sample(early, 2))
        severe |= set(rng.sample([i for i in past if i not in severe], 2))
        for i in severe:
            plans[i].severe_htn = True
        for i in rng.sample([i for i in past if i not in severe], 3):
            plans[i].desaturation = True
        return plans

    def extra_sessions(self, patient: _Patient, end: date) -> list[_Plan]:
        """Boosters after a pain course; maintenance infusions after a depression course."""
        rng = self.rng
        result: list[_Plan] = []
        if patient.indication == "depression":
            day = end
            for _ in range(4):
                day = _weekday(day + timedelta(days=rng.randint(14, 28)))
                if day >= self.today:
                    break
                result.append(_Plan(patient, day, 1, 1, "maintenance"))
            return result
        if end > self.today - timedelta(days=45) or rng.random() > 0.6:
            return result
        count = rng.choice((1, 1, 2))
        day = _weekday(end + timedelta(days=rng.randint(35, 60)))
        for k in range(count):
            if day >= self.today:
                break
            result.append(_Plan(patient, day, k + 1, count, "booster"))
            day = _weekday(day + timedelta(days=rng.randint(2, 4)))
        if result and result[-1].series_number != count:
            result = [_Plan(p.patient, p.day, p.series_number, len(result), p.kind)
                      for p in result]
        return result

    def _lots(self) -> dict[tuple[int, int], tuple[str, date]]:
        """Pharmacy lots change monthly; each expires 8-18 months after it arrives."""
        lots: dict[tuple[int, int], tuple[str, date]] = {}
        month = (self.today - timedelta(days=HISTORY_DAYS + 31)).replace(day=1)
        while month <= self.today:
            letter = "ABCDEFGHJKLM"[month.month - 1]
            lot = f"KT{month.year % 100:02d}{letter}{self.rng.randint(100, 999)}"
            expiry = (month + timedelta(days=self.rng.randint(8 * 30, 18 * 30))).replace(day=1)
            expiry = expiry - timedelta(days=1)  # end of the previous month
            lots[(month.year, month.month)] = (lot, expiry)
            month = (month + timedelta(days=32)).replace(day=1)
        return lots

    # -- timing and chairs -------------------------------------------------------------
    def place(self, plans: list[_Plan]) -> list[tuple[_Plan, datetime, int, str]]:
        """(plan, arrival, minutes from arrival to start, chair) with no double-booked chair."""
        rng = self.rng
        busy: dict[tuple[date, str], list[tuple[datetime, datetime]]] = defaultdict(list)
        placed = []
        for plan in plans:
            lead = rng.randint(20, 32)
            length = timedelta(minutes=lead + plan.patient.protocol.duration_min + 120)
            if plan.in_progress:
                start = self.now - timedelta(minutes=rng.uniform(85.0, 95.0))
                wanted = start - timedelta(minutes=lead)
            else:
                wanted = self.at(plan.day, 7, 30) + timedelta(minutes=15 * rng.randint(0, 16))
            chairs = list(CHAIRS)
            rng.shuffle(chairs)
            arrival, chair = min(
                ((self.free_from(busy[(wanted.date(), c)], wanted, length), c) for c in chairs),
                key=lambda option: option[0])
            busy[(arrival.date(), chair)].append((arrival, arrival + length))
            placed.append((plan, arrival, lead, chair))
        return placed

    @staticmethod
    def free_from(taken: list[tuple[datetime, datetime]], wanted: datetime,
                  length: timedelta) -> datetime:
        """Earliest arrival at or after `wanted` when the chair is free for `length`."""
        for candidate in sorted([wanted, *(end for _, end in taken if end > wanted)]):
            if all(candidate >= end or candidate + length <= begin for begin, end in taken):
                return candidate
        raise AssertionError("unreachable: the end of the last booking is always free")

    # -- one session -----------------------------------------------------------------
    def session(self, plan: _Plan, arrival: datetime, lead: int, chair: str) -> _Built:
        rng = self.rng
        patient, protocol = plan.patient, plan.patient.protocol
        nurse = self.nurses[0] if plan.in_progress or rng.random() < 0.6 else self.nurses[1]
        live = plan.in_progress
        # Pain or mood came back before a new booster run or the start of maintenance;
        # maintenance infusions themselves keep the response going.
        if plan.kind != "course" and plan.series_number == 1 and (
                plan.kind == "booster" or patient.last_kind != "maintenance"):
            patient.gain *= 0.4
            patient.phq = min(24.0, patient.phq + rng.uniform(2, 5))
        patient.last_kind = plan.kind
        weight = round(_clip(patient.weight_kg + rng.uniform(-1.2, 1.2), 50, 120), 1)
        start = arrival + timedelta(minutes=lead)
        duration = protocol.duration_min
        long = duration >= 120
        rate = _pump_rate(protocol.rate_mg_per_kg_per_h * weight)
        depression = patient.indication == "depression"

        # What happens in this session.
        nausea = not live and rng.random() < (0.3 if patient.nausea_prone else 0.1)
        pause_for_nausea = nausea and long and rng.random() < 0.5
        dissociation = rng.random() < 0.09
        dizziness = not live and rng.random() < 0.05
        anxiety = rng.random() < 0.03
        moderate_htn = not plan.severe_htn and rng.random() < 0.04
        prophylaxis = patient.nausea_prone and rng.random() < 0.7

        pause_at = pause_len = None
        if pause_for_nausea:
            pause_at = start + timedelta(minutes=rng.randint(75, duration - 40))
            pause_len = rng.randint(8, 15)
        stop = start + timedelta(minutes=duration + (pause_len or 0))
        discharge = stop + timedelta(minutes=rng.randint(60, 80))

        haemo = self.haemodynamics(plan, start, chair, moderate_htn)

        times = self.vitals_times(arrival, start, stop, discharge,
                                  protocol.monitoring_interval_min)

        times, peak, desat_at = self.events_in_vitals(plan, times, start, stop, moderate_htn)

        # Dose events.
        doses: list[_Dose] = []
        if protocol.bolus_mg_per_kg > 0 and rng.random() < 0.85:
            doses.append(_Dose(start, DoseKind.BOLUS,
                               bolus_mg=math.floor(protocol.bolus_mg_per_kg * weight * 2) / 2,
                               reason="loading bolus per protocol"))
        doses.append(_Dose(start, DoseKind.START, rate_mg_per_h=rate,
                           reason=f"{protocol.name}: {protocol.rate_mg_per_kg_per_h:g} mg/kg/h"))
        current = rate
        rate_down_at: datetime | None = None
        peak_sbp = 0
        if plan.severe_htn and peak is not None:
            peak_sbp = rng.randint(182, 194)
            rate_down_at = peak + timedelta(minutes=1)
            current = round(rate * 0.5, 1)
            doses.append(_Dose(rate_down_at, DoseKind.RATE_CHANGE, rate_mg_per_h=current,
                               reason=f"SBP {peak_sbp} mmHg: rate halved, provider informed"))
            haemo.treated_at = peak + timedelta(minutes=3)
        elif moderate_htn and peak is not None:
            haemo.treated_at = peak + timedelta(minutes=4)
        dissociation_at = start + timedelta(minutes=rng.randint(20, 35 if depression else 45))
        cadss_value = 0
        if dissociation:
            cadss_items = {f"item_{n}": rng.choice((1, 1, 2, 2, 3))
                           for n in (1, 2, 6, 7, 15, 22)}
            cadss_value = SCALES["cadss6"].score(items=cadss_items).total
            if rate_down_at is None and rng.random() < 0.5:
                rate_down_at = dissociation_at + timedelta(minutes=1)
                current = round(rate * 0.75, 1)
                doses.append(_Dose(rate_down_at, DoseKind.RATE_CHANGE, rate_mg_per_h=current,
                                   reason=f"mild dissociation (CADSS-6 {cadss_value}): "
                                          "rate reduced 25 %"))
        titrate_at = start + timedelta(minutes=60)
        titrated = (rate_down_at is None and duration >= 240 and patient.gain < 2.5
                    and rng.random() < 0.3)
        if titrated:
            target = 0.75 if protocol.rate_mg_per_kg_per_h >= 0.5 else 0.5
            current = _pump_rate(target * weight)
            doses.append(_Dose(titrate_at, DoseKind.RATE_CHANGE, rate_mg_per_h=current,
                               reason=f"titrated to {target:g} mg/kg/h per provider order: "
                                      "pain still >= 5, vitals stable"))
        nausea_at = (pause_at - timedelta(minutes=1) if pause_at else
                     start + timedelta(minutes=rng.randint(20, 35 if depression else 90)))
        if pause_at is not None and pause_len is not None:
            doses.append(_Dose(pause_at, DoseKind.PAUSE, reason="nausea"))
            doses.append(_Dose(pause_at + timedelta(minutes=pause_len), DoseKind.RESUME,
                               reason="nausea settled after ondansetron"))
        doses.append(_Dose(stop, DoseKind.STOP, reason="planned infusion time complete" +
                           (" (extended by the pause)" if pause_len else "")))
        doses.sort(key=lambda d: d.at)  # stable: bolus stays before start

        # Scores and pain.
        pre, post, phq_now = self.pain_and_mood(patient)

        children: dict[str, list[dict[str, object]]] = defaultdict(list)

        def keep(when: datetime) -> bool:
            return not live or when <= self.now

        def stamp(when: datetime) -> dict[str, object]:
            return {"uuid": self.uuid(), "entered_at": to_iso(when), "entered_by": nurse}

        def score(when: datetime, scale: str, phase: Phase, value: int | None = None,
                  items: dict[str, int] | None = None) -> None:
            if not keep(when):
                return
            result = SCALES[scale].score(value=value, items=items)
            children["scores"].append({
                **stamp(when), "at": to_iso(when), "scale": scale, "value": result.total,
                "phase": phase.value, "items": json.dumps(dict(items or {}), sort_keys=True)})

        score(arrival + timedelta(minutes=5), "nrs", Phase.PRE, value=pre)
        if phq_now is not None:
            score(arrival + timedelta(minutes=7), "phq9", Phase.PRE,
                  items=self.phq9_items(phq_now))
        sedation_watch = rng.random() < 0.6 or dissociation or plan.desaturation
        if sedation_watch:
            t = start + timedelta(minutes=15)
            while t <= stop:
                deep = dissociation and abs((t - dissociation_at).total_seconds()) < 1200
                level = rng.choices((5, 4, 3), (0.1, 0.6, 0.3) if deep else (0.7, 0.27, 0.03))[0]
                score(t, "moaas", Phase.INTRA, value=level)
                t += timedelta(minutes=15)
        if desat_at is not None:
            score(desat_at + timedelta(minutes=1), "moaas", Phase.INTRA, value=3)
        if dissociation:
            score(dissociation_at, "cadss6", Phase.INTRA, items=cadss_items)
        elif rng.random() < 0.4:
            score(start + timedelta(minutes=min(rng.randint(30, 40), duration)), "cadss6",
                  Phase.INTRA, items={f"item_{n}": rng.choice((0, 0, 0, 1, 1, 2))
                                      for n in (1, 2, 6, 7, 15, 22)})
        if duration >= 240 and not depression and rng.random() < 0.4:
            score(start + timedelta(minutes=120), "nrs", Phase.INTRA,
                  value=round((pre + post) / 2 + rng.choice((0, 0, 1))))

        # Vitals.
        readings: list[dict[str, object]] = []
        for i, when in enumerate(times):
            if not keep(when):
                continue
            values = self.reading(haemo, when, baseline=i == 0)
            if when == peak and plan.severe_htn:
                values["sbp_mmhg"] = float(peak_sbp)
                values["dbp_mmhg"] = float(max(values["dbp_mmhg"] or 0, round(peak_sbp * 0.56)))
            if when == desat_at:
                values["spo2_pct"], values["rr_per_min"] = 91.0, 11.0
            if desat_at is not None and when == desat_at + timedelta(minutes=3):
                values["spo2_pct"] = float(rng.randint(95, 97))
            readings.append(self.vitals_row(values, when, stamp(when)))
        if not live and rng.random() < 0.04 and len(readings) > 6:
            # A cuff reading taken while the arm moved: struck through, repeated, kept.
            bad = readings[rng.randint(3, len(readings) - 3)]
            bad["artifact"], bad["artifact_reason"] = 1, "arm moved during NIBP cycle; repeated"
        children["vitals"] = readings
        last_sbp = as_float(readings[-1]["sbp_mmhg"])
        last_spo2 = as_float(readings[-1]["spo2_pct"])
        moderate_sbp = 0
        if moderate_htn and peak is not None:
            moderate_sbp = int(max(as_float(r["sbp_mmhg"]) for r in readings
                                   if r["at"] == to_iso(peak)) if keep(peak) else 0)

        # Dose rows, with the soft warnings the nurse acknowledged (as record_dose does).
        events, children["dose_events"] = self.dose_rows(doses, live, weight, protocol,
                                                        start, nurse)
        total = dosing.running_total_mg(events, self.now if live else stop)

        # Side effects and adjuncts.
        effects: list[str] = []

        def adjunct(when: datetime, drug: str, dose: float, unit: str, route: str,
                    reason: str) -> None:
            if keep(when):
                children["adjunct_medications"].append({
                    **stamp(when), "at": to_iso(when), "drug": drug, "dose": dose,
                    "unit": unit, "route": route, "reason": reason})

        def side_effect(onset: datetime, kind: str, severity: str, action: str,
                        resolved: datetime | None, note: str = "") -> None:
            if not keep(onset):
                return
            resolved = min(resolved, discharge - timedelta(minutes=10)) if resolved else None
            if resolved is not None and not keep(resolved):
                resolved = None
            children["side_effects"].append({
                **stamp(onset), "onset_at": to_iso(onset), "kind": kind,
                "severity": severity, "action": action,
                "resolved_at": to_iso(resolved) if resolved else None, "note": note})
            effects.append(kind)

        if prophylaxis:
            adjunct(start - timedelta(minutes=5), "ondansetron", 4, "mg", "IV",
                    "prophylaxis: nausea at earlier infusions")
        if plan.severe_htn and peak is not None:
            drug = rng.choice((("labetalol", 10.0, "mg", "IV"), ("clonidine", 0.1, "mg", "PO")))
            adjunct(peak + timedelta(minutes=3), *drug, f"hypertension, SBP {peak_sbp} mmHg")
            side_effect(peak, "hypertension", "severe" if peak_sbp >= 190 else "moderate",
                        f"rate halved; {drug[0]} {drug[1]:g} {drug[2]} {drug[3]}; "
                        "provider at bedside",
                        peak + timedelta(minutes=rng.randint(20, 30)),
                        "No headache, chest pain or visual change.")
        if moderate_htn and peak is not None and moderate_sbp:
            adjunct(peak + timedelta(minutes=4), "clonidine", 0.1, "mg", "PO",
                    f"hypertension, SBP {moderate_sbp} mmHg")
            side_effect(peak, "hypertension", "mild", "clonidine 0.1 mg PO; rechecked q5min",
                        peak + timedelta(minutes=rng.randint(30, 45)))
        if nausea:
            severity = rng.choice(("mild", "mild", "moderate"))
            if not prophylaxis:
                adjunct(nausea_at + timedelta(minutes=2), "ondansetron", 4, "mg", "IV", "nausea")
            action = ("repeat antiemetic not needed; cool cloth" if prophylaxis
                      else "ondansetron 4 mg IV")
            if pause_len:
                action += f"; infusion paused {pause_len} min"
            side_effect(nausea_at, "nausea", severity, action,
                        nausea_at + timedelta(minutes=rng.randint(15, 30)))
        if dissociation:
            action = ("rate reduced 25 %; reassurance, lights dimmed"
                      if rate_down_at == dissociation_at + timedelta(minutes=1)
                      else "reassurance, lights dimmed, eye mask, music")
            side_effect(dissociation_at, "dissociation", "mild", action,
                        dissociation_at + timedelta(minutes=rng.randint(20, 50)),
                        f"CADSS-6 {cadss_value}; patient calm, oriented when spoken to.")
        if anxiety:
            onset = start + timedelta(minutes=rng.randint(10, 20))
            adjunct(onset + timedelta(minutes=3), "midazolam", 1, "mg", "IV", "anxiety")
            side_effect(onset, "anxiety", "mild", "reassurance; midazolam 1 mg IV",
                        onset + timedelta(minutes=rng.randint(15, 25)))
        if desat_at is not None:
            side_effect(desat_at, "sedation", "mild",
                        "verbal stimulation, deep breaths; SpO2 back to 95 % or more within "
                        "3 min, no oxygen needed", desat_at + timedelta(minutes=5),
                        "MOAA/S 3 at the time.")
        if dizziness:
            onset = stop + timedelta(minutes=rng.randint(5, 15))
            side_effect(onset, "dizziness", "mild", "stayed seated, oral fluids",
                        onset + timedelta(minutes=rng.randint(15, 25)))

        # Discharge scores and notes (completed sessions only).
        if not live:
            score(discharge - timedelta(minutes=12), "nrs", Phase.POST, value=post)
            circulation = aldrete_circulation_item(last_sbp, as_float(
                readings[0]["sbp_mmhg"]))
            items = {"activity": 2, "respiration": 2, "circulation": circulation,
                     "consciousness": 1 if circulation == 2 and rng.random() < 0.1 else 2,
                     "spo2": aldrete_spo2_item(last_spo2, False)}
            if sum(items.values()) < 9:
                items["consciousness"] = items["activity"] = 2
            score(discharge - timedelta(minutes=6), "aldrete", Phase.POST, items=items)
            if rng.random() < 0.5:
                score(discharge - timedelta(minutes=5), "padss", Phase.POST, items={
                    "vital_signs": 2, "activity": 2, "nausea_vomiting": 1 if nausea else 2,
                    "pain": 2 if post <= 4 else 1})
        notes = children["notes"]
        iv_at = start - timedelta(minutes=6)
        if keep(iv_at) and rng.random() < 0.7:
            notes.append({"uuid": self.uuid(), "at": to_iso(iv_at), "author_id": nurse,
                          "text": f"IV 22 G {rng.choice(IV_SITES)}, first attempt; "
                                  "flushes well, no swelling.", "entered_at": to_iso(iv_at)})
        if live:
            note_at = self.now - timedelta(minutes=rng.randint(3, 10))
            notes.append({"uuid": self.uuid(), "at": to_iso(note_at), "author_id": nurse,
                          "text": "Infusion running; comfortable, talking, vitals stable.",
                          "entered_at": to_iso(note_at)})
        else:
            note_at = discharge - timedelta(minutes=3)
            notes.append({"uuid": self.uuid(), "at": to_iso(note_at), "author_id": nurse,
                          "text": self.discharge_note(plan, pre, post, total, weight, effects),
                          "entered_at": to_iso(note_at)})
        for table in children:
            children[table].sort(key=lambda r: str(r.get("at") or r.get("onset_at")))

        lot, expiry = self.lots[(arrival.year, arrival.month)]
        volume, concentration = self.bag(patient.indication, total)
        row: dict[str, object] = {
            "uuid": self.uuid(), "patient_id": patient.id, "protocol_id": protocol.id,
            "series_number": plan.series_number, "series_total": plan.series_total,
            "chair": chair, "nurse_id": nurse, "provider_id": None, "weight_kg": weight,
            "bag_drug": "ketamine", "bag_concentration_mg_per_ml": concentration,
            "bag_volume_ml": volume, "bag_lot": lot, "bag_expiry": expiry.isoformat(),
            "status": (SessionStatus.IN_PROGRESS if live else SessionStatus.COMPLETED).value,
            "arrival_at": to_iso(arrival), "infusion_start_at": to_iso(start),
            "infusion_end_at": None if live else to_iso(stop),
            "discharge_at": None if live else to_iso(discharge),
            "discharge_escort": "" if live else patient.escort,
            "discharge_instructions": "" if live else DISCHARGE_INSTRUCTIONS,
            "created_at": to_iso(arrival)}

        # Course of the patient's state, and phone follow-ups.
        follow_ups = [] if live else self.follow_ups(plan, discharge, pre, post, phq_now, nurse)
        if patient.responder:
            patient.gain = min(patient.pain0 * 0.55, patient.gain + rng.uniform(0.3, 0.6))
            patient.phq = max(3.0, patient.phq - rng.uniform(1.5, 3.5))
        else:
            patient.gain = min(patient.pain0 * 0.2, patient.gain + rng.uniform(0.0, 0.2))
            patient.phq = max(8.0, patient.phq - rng.uniform(0.0, 1.0))

        completed_at = None if live else discharge + timedelta(minutes=rng.randint(1, 8))
        sign_at = None
        if completed_at is not None:
            delay = (timedelta(hours=rng.uniform(1, 6)) if rng.random() < 0.65
                     else timedelta(hours=rng.uniform(18, 70)))
            sign_at = completed_at + delay
            if sign_at > self.now:
                sign_at = None
        return _Built(plan, nurse, row, dict(children), follow_ups, completed_at, sign_at)

    def haemodynamics(self, plan: _Plan, start: datetime, chair: str,
                      moderate_htn: bool) -> _Haemodynamics:
        """The session's blood-pressure and heart-rate response to ketamine: a rise of
        about 11 mmHg systolic, pushed past the alert lines on hypertensive sessions."""
        rng, patient = self.rng, plan.patient
        rise_sbp = _clip(rng.gauss(11, 5), 3, 26)
        if plan.severe_htn:
            rise_sbp = max(rise_sbp, 184 - patient.sbp + rng.uniform(0, 8))
        elif moderate_htn:
            rise_sbp = max(rise_sbp, rng.uniform(166, 176) - patient.sbp)
        return _Haemodynamics(
            start=start, sbp=patient.sbp + rng.gauss(0, 5), dbp=patient.dbp + rng.gauss(0, 3),
            hr=patient.hr + rng.gauss(0, 4), spo2=patient.spo2, rr=patient.rr,
            rise_sbp=rise_sbp, rise_dbp=rise_sbp * rng.uniform(0.6, 0.75),
            rise_hr=_clip(rng.gauss(8, 4), 0, 18), tau=rng.uniform(30, 40),
            severe=plan.severe_htn, capnography=chair in CAPNOGRAPHY_CHAIRS)

    def events_in_vitals(self, plan: _Plan, times: list[datetime], start: datetime,
                         stop: datetime, moderate_htn: bool,
                         ) -> tuple[list[datetime], datetime | None, datetime | None]:
        """Place the blood-pressure peak (with its 5-, 10- and 15-minute rechecks) and
        the desaturation among the vitals times: (times, peak, desaturation)."""
        depression = plan.patient.indication == "depression"

        def intra(low: int, high: int) -> list[datetime]:
            return [x for x in times if start + timedelta(minutes=low) <= x
                    <= start + timedelta(minutes=high) and x < stop]

        peak: datetime | None = None
        if plan.severe_htn or moderate_htn:
            near = intra(25, 37 if depression else 45)
            peak = (min(near, key=lambda x: abs((x - start).total_seconds() - 35 * 60)) if near
                    else start + timedelta(minutes=33))
            recheck = [peak + timedelta(minutes=m) for m in (5, 10, 15)]
            times = sorted({x for x in times if not peak < x < peak + timedelta(minutes=16)}
                           | {peak, *recheck})
        desat_at: datetime | None = None
        if plan.desaturation:
            candidates = [x for x in intra(20, 70) if x != peak]
            desat_at = (self.rng.choice(candidates) if candidates
                        else start + timedelta(minutes=22))
            times = sorted({*times, desat_at, desat_at + timedelta(minutes=3)})
        return times, peak, desat_at

    def dose_rows(self, doses: list[_Dose], live: bool, weight: float, protocol: Protocol,
                  start: datetime, nurse: int) -> tuple[list[DoseEvent], list[dict[str, object]]]:
        """The dose events given so far and their rows, each with the soft warnings the
        nurse acknowledged (as record_dose asks); the timeline must pass the engine."""
        events: list[DoseEvent] = []
        rows: list[dict[str, object]] = []
        for dose in doses:
            if (live and dose.at > self.now) or (live and dose.kind is DoseKind.STOP):
                continue
            event = DoseEvent(None, self.uuid(), 0, dose.at, dose.kind, dose.bolus_mg,
                              dose.rate_mg_per_h, weight, dose.reason)
            warnings = self.dose_warnings(events, event, protocol, weight, start)
            events.append(event)
            rows.append({
                "uuid": event.uuid, "at": to_iso(dose.at), "kind": dose.kind.value,
                "bolus_mg": dose.bolus_mg, "rate_mg_per_h": dose.rate_mg_per_h,
                "weight_kg": weight, "reason": dose.reason,
                "acknowledged_warnings": json.dumps([w.as_text() for w in warnings]),
                "entered_at": to_iso(dose.at), "entered_by": nurse})
        state = dosing.validate_timeline(events)
        assert state == ("running" if live else "stopped"), state
        return events, rows

    def pain_and_mood(self, patient: _Patient) -> tuple[int, int, int | None]:
        """NRS before and after this infusion and the PHQ-9 total (depression only):
        responders drop by a third to two thirds, the others by 0-2 points."""
        rng = self.rng
        depression = patient.indication == "depression"
        pre = round(_clip(patient.pain0 - patient.gain + rng.gauss(0, 0.6), 0, 10))
        if not depression:
            pre = max(pre, 2)
        if patient.responder:
            post = round(pre * (1 - rng.uniform(0.3, 0.65)))
        else:
            post = pre - rng.choice((0, 1, 1, 2))
        post = max(0, min(pre, post))
        phq_now = round(_clip(patient.phq + rng.gauss(0, 1), 0, 24)) if depression else None
        return pre, post, phq_now

    def vitals_times(self, arrival: datetime, start: datetime, stop: datetime,
                     discharge: datetime, monitoring_min: int) -> list[datetime]:
        """Baseline, every 5-15 min during the infusion, every 15 min after it: the
        rhythm CLINICAL.md asks of a nurse, drawn in one place so sessions share it."""
        rng = self.rng
        times = [arrival + timedelta(minutes=rng.randint(9, 13))]
        if rng.random() < 0.5:
            times.append(start - timedelta(minutes=2))
        t = start + timedelta(minutes=rng.randint(3, 6))
        while t < stop:
            times.append(t)
            t += timedelta(minutes=self.interval(monitoring_min))
        times.append(stop + timedelta(minutes=1))
        t = stop + timedelta(minutes=15)
        while t <= discharge - timedelta(minutes=8):
            times.append(t)
            t += timedelta(minutes=rng.randint(13, 17))
        return times

    def interval(self, monitoring_min: int) -> int:
        """Mostly within the protocol's interval, sometimes a longer gap (a real finding)."""
        if self.rng.random() < 0.88:
            return self.rng.randint(5, max(5, monitoring_min))
        return self.rng.randint(monitoring_min + 1, 15)

    def reading(self, h: _Haemodynamics, at: datetime, baseline: bool) -> dict[str, float | None]:
        rng = self.rng
        f = h.effect(at)
        running = h.start <= at
        cap = 200.0 if h.severe and (h.treated_at is None or at <= h.treated_at) else 178.0
        sbp = _clip(round(h.sbp + h.rise_sbp * f + rng.gauss(0, 4)), 96, cap)
        dbp = _clip(round(h.dbp + h.rise_dbp * f + rng.gauss(0, 3)), 52, 108)
        dbp = min(dbp, sbp - 25)
        hr = _clip(round(h.hr + h.rise_hr * f + rng.gauss(0, 3)), 54, 112)
        spo2 = _clip(h.spo2 + rng.choice((-1, 0, 0, 0, 1)) - (1 if running and f > 0.5
                                                                and rng.random() < 0.3 else 0),
                     94, 100)
        rr = _clip(round(h.rr + rng.gauss(0, 1.2)), 11, 22)
        etco2 = (float(_clip(round(38 + rng.gauss(0, 2)), 33, 45))
                 if h.capnography and running else None)
        return {"sbp_mmhg": float(sbp), "dbp_mmhg": float(dbp), "hr_bpm": float(hr),
                "spo2_pct": float(spo2), "rr_per_min": float(rr), "etco2_mmhg": etco2,
                "temp_c": round(rng.uniform(36.3, 37.2), 1) if baseline else None}

    def vitals_row(self, values: dict[str, float | None], when: datetime,
                   stamp: dict[str, object]) -> dict[str, object]:
        """The row record_vitals would store: validated, MAP derived, alerts flagged."""
        present = {k: v for k, v in values.items() if v is not None}
        validate_vitals(present)
        present["map_mmhg"] = derive_map_mmhg(present["sbp_mmhg"], present["dbp_mmhg"])
        alerts = [a.field for a in self.thresholds.evaluate(present)]
        # Every row carries every column: insert_many takes its columns from the first row.
        return {**stamp, "at": to_iso(when), "sbp_mmhg": present["sbp_mmhg"],
                "dbp_mmhg": present["dbp_mmhg"], "map_mmhg": present["map_mmhg"],
                "map_derived": 1, "hr_bpm": present["hr_bpm"], "spo2_pct": present["spo2_pct"],
                "rr_per_min": present["rr_per_min"], "etco2_mmhg": values["etco2_mmhg"],
                "temp_c": values["temp_c"], "source": "manual", "alerts": json.dumps(alerts),
                "late_entry": 0, "artifact": 0, "artifact_reason": ""}

    def dose_warnings(self, given: list[DoseEvent], event: DoseEvent, protocol: Protocol,
                      weight: float, start: datetime) -> list[dosing.DoseWarning]:
        """The same soft warnings record_dose would have asked the nurse to acknowledge."""
        so_far = dosing.running_total_mg(given, event.at) if given else 0.0
        if event.kind is DoseKind.BOLUS and event.bolus_mg:
            return (dosing.bolus_warnings(event.bolus_mg, weight, protocol.indication)
                    + dosing.total_warnings(so_far + event.bolus_mg, protocol.max_total_mg,
                                            protocol.name))
        if event.kind in (DoseKind.START, DoseKind.RATE_CHANGE) and event.rate_mg_per_h:
            end = start + timedelta(minutes=protocol.duration_min)
            remaining = max(0.0, (end - event.at).total_seconds() / 3600)
            return (dosing.rate_warnings(event.rate_mg_per_h, weight, protocol.indication)
                    + dosing.total_warnings(so_far + event.rate_mg_per_h * remaining,
                                            protocol.max_total_mg, protocol.name))
        return []

    def bag(self, indication: str, total_mg: float) -> tuple[float, float]:
        """(volume mL, mg/mL): the usual pharmacy bags, always holding the whole dose."""
        options = {"depression": ((100.0, 1.0),), "fibromyalgia": ((100.0, 2.0),),
                   "CRPS": ((250.0, 1.0), (500.0, 1.0)),
                   "neuropathic pain": ((500.0, 1.0), (250.0, 2.0))}[indication]
        volume, concentration = self.rng.choice(options)
        if volume * concentration < total_mg:
            volume, concentration = 500.0, 1.0
        assert volume * concentration >= total_mg, (total_mg, volume)
        return volume, concentration

    def phq9_items(self, total: int) -> dict[str, int]:
        """Spread a total over items 1-8 (item 9, self-harm, stays 0 in demo data)."""
        items = [0] * 9
        for _ in range(min(total, 24)):
            items[self.rng.choice([i for i in range(8) if items[i] < 3])] += 1
        return {f"item_{i + 1}": v for i, v in enumerate(items)}

    def discharge_note(self, plan: _Plan, pre: int, post: int, total: float, weight: float,
                       effects: list[str]) -> str:
        kind = {"course": "infusion", "booster": "booster infusion",
                "maintenance": "maintenance infusion"}[plan.kind]
        text = (f"{plan.patient.protocol.name}, {kind} {plan.series_number} of "
                f"{plan.series_total}. Ketamine {total:.0f} mg ({total / weight:.2f} mg/kg). "
                f"NRS {pre} before, {post} after. ")
        if effects:
            text += f"Side effects: {', '.join(effects)}; see entries, all resolved. "
        else:
            text += "No side effects; tolerated well. "
        text += (f"Discharged ambulatory with {plan.patient.escort}; no driving for 8 h "
                 "explained and understood.")
        return text

    def follow_ups(self, plan: _Plan, discharge: datetime, pre: int, post: int,
                   phq: int | None, nurse: int) -> list[dict[str, object]]:
        """Calls after 1, 3, 7 and 14 days while no further infusion has happened:
        NRS drifts back towards the pre-infusion level as relief wears off."""
        rng = self.rng
        relief_days = (rng.uniform(3, 18) if plan.patient.responder else rng.uniform(0.5, 2))
        rows = []
        for days in FOLLOW_UP_DAYS:
            day = discharge.date() + timedelta(days=days)
            if plan.next_day is not None and day >= plan.next_day:
                break
            when = self.at(day, 14, 0) + timedelta(minutes=rng.randint(-120, 180))
            if when > self.now:
                break
            if rng.random() < 0.12:  # no answer
                continue
            fade = math.exp(-days / relief_days)
            nrs = round(_clip(pre - (pre - post) * fade + rng.gauss(0, 0.4), post, 10))
            # Relief lasts until the NRS is back within 1 point of the pre-infusion value.
            lasting = relief_days * math.log(max(pre - post, 1))
            score_phq = None
            if phq is not None:
                score_phq = round(_clip(phq - (6 if plan.patient.responder else 1) * fade
                                        + rng.gauss(0, 1), 0, 27))
                note = ("mood better, sleeping more" if score_phq < phq
                        else "mood about the same")
            else:
                note = "relief holding" if lasting > days else "pain back near the usual level"
            rows.append({"uuid": self.uuid(), "at": to_iso(when), "nrs": nrs,
                         "relief_hours": round(min(days, lasting) * 24, 1),
                         "phq9": score_phq,
                         "source": rng.choice(("phone", "phone", "phone", "clinic visit")),
                         "note": note, "entered_at": to_iso(when), "entered_by": nurse})
        return rows


# --- writing -------------------------------------------------------------------------


def _create_staff(store: Store, clock: Clock, seed: int) -> tuple[dict[str, int], dict[str, str]]:
    """Users through the auth services, so hashing and roles are exactly as in real use."""
    passwords = {"admin": demo_password("admin", seed)}
    admin = bootstrap_admin(store, clock, "admin", passwords["admin"],
                            display_name="Clinic Administrator", clinic_name=DEMO_CLINIC_NAME)
    ctx = Context(store, clock, admin)
    ids = {"admin": int(admin.id or 0)}
    for username, display, credentials, role in STAFF:
        passwords[username] = demo_password(username, seed)
        user = add_user(ctx, username, [role], passwords[username], display_name=display,
                        credentials=credentials)
        ids[username] = int(user.id or 0)
    return ids, passwords


CHILD_ORDER = ("vitals", "dose_events", "adjunct_medications", "scores", "side_effects",
               "notes")
CHILD_WRITERS: dict[str, Callable[[Writer, list[dict[str, object]]], int]] = {
    "vitals": vitals_store.insert_many, "dose_events": doses_store.insert_many,
    "adjunct_medications": adjuncts_store.insert_many, "scores": scores_store.insert_many,
    "side_effects": side_effects_store.insert_many, "notes": notes_store.insert_many}


SERIES_KIND = {"course": "induction", "booster": "booster", "maintenance": "maintenance"}
MAINTENANCE_PLANNED = 6
SERIES_GOALS = {
    ("induction", "depression"): "PHQ-9 response (50 % lower than the first), remission below 5",
    ("induction", ""): "NRS down by at least 30 %, relief lasting a week or more",
    ("booster", ""): "Regain the relief of the induction course",
    ("maintenance", ""): "Keep PHQ-9 below 10 with an infusion every 2-4 weeks",
}


@dataclass
class _Series:
    kind: str
    items: list[_Built]
    planned: int
    next_on: date | None = None
    closed_on: date | None = None
    id: int = 0


def _demo_series(built: list[_Built], today: date, rng: random.Random) -> list[_Series]:
    """Group each patient's sessions into series: a course or booster run restarts at
    1; a depression patient's maintenance infusions form one open series. Series still
    open get a planned next day (some of them already passed: overdue, as in life)."""
    groups: list[_Series] = []
    by_patient: dict[int, list[_Built]] = defaultdict(list)
    for item in sorted(built, key=lambda b: (b.plan.day, b.plan.in_progress)):
        by_patient[item.plan.patient.index].append(item)
    for items in by_patient.values():
        current: _Series | None = None
        for item in items:
            kind = SERIES_KIND[item.plan.kind]
            if current is None or current.kind != kind or (
                    kind != "maintenance" and item.plan.series_number == 1):
                current = _Series(kind, [], MAINTENANCE_PLANNED if kind == "maintenance"
                                  else item.plan.series_total)
                groups.append(current)
            current.items.append(item)
            if kind == "maintenance":  # one series, numbered through
                item.row["series_number"] = len(current.items)
                item.row["series_total"] = MAINTENANCE_PLANNED
        last = items[-1]
        if current is not None and len(current.items) < current.planned:
            gap = rng.randint(2, 4) if current.kind == "induction" else rng.randint(14, 21)
            base = today if last.plan.in_progress else last.plan.day
            current.next_on = base + timedelta(days=gap)
            if current.next_on < today - timedelta(days=14):  # long gone: paused
                current.closed_on, current.next_on = current.next_on, None
    return groups


def _series_row(series: _Series) -> dict[str, object]:
    first = series.items[0]
    patient = first.plan.patient
    goal = (SERIES_GOALS.get((series.kind, patient.indication))
            or SERIES_GOALS[(series.kind, "")])
    return {"uuid": str(uuidlib.uuid5(uuidlib.UUID(str(first.row["uuid"])), "series")),
            "patient_id": patient.id, "protocol_id": first.row["protocol_id"],
            "kind": series.kind, "planned_sessions": series.planned,
            "start_date": first.plan.day.isoformat(), "goal": goal,
            "next_session_on": None if series.next_on is None else series.next_on.isoformat(),
            "closed_at": None if series.closed_on is None else to_iso(
                datetime.combine(series.closed_on, time(17, 0), tzinfo=UTC)),
            "closed_reason": "" if series.closed_on is None else
            "Patient paused maintenance; call to re-plan if symptoms return",
            "created_at": first.row["created_at"], "created_by": first.nurse}


def _write_nurse_work(store: Store, actor: Actor, key: SigningKey, built: list[_Built],
                      patients: list[_Patient], series: Sequence[_Series] = ()) -> None:
    """One transaction per nurse: her sessions, their children, follow-ups, and her
    completion signature (hash taken after every child row is in). The first one also
    holds the patients and their treatment series."""
    with store.write(actor) as w:
        for patient in patients:
            patient.id = patient_rows.insert_patient(w, patient.row)
        for group in series:
            group.id = series_store.insert(w, _series_row(group))
            for member in group.items:
                member.row["series_id"] = group.id
        for item in built:
            item.row["patient_id"] = item.plan.patient.id
            item.id = sessions_store.insert(w, item.row)
        for table in CHILD_ORDER:
            CHILD_WRITERS[table](w, [{**r, "session_id": item.id} for item in built
                                     for r in item.children.get(table, [])])
        follow_ups_store.insert_many(w, [{**r, "session_id": item.id} for item in built
                                         for r in item.follow_ups])
        signatures_store.insert_many(w, [
            {**session_signature(store, key, session_id=item.id,
                                 session_uuid=str(item.row["uuid"]), user_id=item.nurse,
                                 at=to_iso(item.completed_at), meaning=NURSE_SIGNATURE),
             "uuid": _signature_uuid(item, "nurse")}
            for item in built if item.completed_at is not None])


def _key(store: Store, user_id: int, password: str) -> SigningKey:
    """The demo signs with each user's own key, unsealed with the password it set."""
    key = open_key(store, user_id, password)
    assert key is not None, "every demo account got a key when it was created"
    return key


def _signature_uuid(item: _Built, who: str) -> str:
    """Signature uuids derive from the session uuid, keeping them deterministic."""
    return str(uuidlib.uuid5(uuidlib.UUID(str(item.row["uuid"])), f"signature:{who}"))


def _write_provider_signatures(store: Store, actor: Actor, key: SigningKey,
                               built: list[_Built]) -> None:
    """As sign_session does: set the provider, hash the content, sign, lock."""
    with store.write(actor) as w:
        for item in built:
            if item.provider_sign_at is None:
                continue
            sessions_store.update(w, item.id, {"provider_id": actor.user_id})
            signatures_store.insert(w, {
                **session_signature(store, key, session_id=item.id,
                                    session_uuid=str(item.row["uuid"]),
                                    user_id=int(actor.user_id or 0),
                                    at=to_iso(item.provider_sign_at), meaning=PROVIDER_SIGNATURE),
                "uuid": _signature_uuid(item, "provider")})
            sessions_store.update(w, item.id, {"status": SessionStatus.SIGNED.value})


@service_boundary
def create_demo(store: Store, clock: Clock, seed: int = 1) -> DemoReport:
    """Fill an empty database with a demo clinic (same seed + same clock = same records).

    Refused on a database that already has users or patients: demo records must never
    mix with real ones."""
    if user_rows.any_user(store) or patient_rows.any_patient(store):
        raise ServiceError("the demo clinic can only be created in an empty database "
                           "(this one already has users or patients)")
    now = clock.now()
    ids, passwords = _create_staff(store, clock, seed)
    seed_protocols(store, Actor(ids["admin"], "admin"))
    protocols: dict[str, Protocol] = {}
    for protocol in protocol_rows.protocols_by_age(store):
        if not protocol.retired:
            protocols.setdefault(protocol.indication, protocol)
    missing = [ind for ind, _ in INDICATION_MIX if ind not in protocols]
    if missing:
        raise ServiceError(f"no active protocol for {', '.join(missing)}")

    gen = _Generator(seed, now, protocols, alert_thresholds_without_login(store),
                     (ids["nurse"], ids["nurse2"]))
    patients = gen.patients()
    plans = gen.schedule(patients)
    first_day = {p.patient.index: p.day for p in reversed(plans)}
    for patient in patients:
        patient.row = gen.patient_row(patient, first_day[patient.index])
    placed = sorted(gen.place(plans), key=lambda x: x[1])
    built = [gen.session(plan, arrival, lead, chair) for plan, arrival, lead, chair in placed]
    # A few of the most recent completed sessions are still waiting for the provider.
    recent = sorted((b for b in built if b.completed_at), key=lambda b: b.completed_at or now)
    for item in recent[-3:]:
        item.provider_sign_at = None

    series = _demo_series(built, now.astimezone().date(), gen.rng)
    first = True
    for username in ("nurse", "nurse2"):
        mine = [b for b in built if b.nurse == ids[username]]
        _write_nurse_work(store, Actor(ids[username], username),
                          _key(store, ids[username], passwords[username]), mine,
                          patients if first else [], series if first else [])
        first = False
    from ketalog.services.demo_stock import add_demo_stock

    add_demo_stock(store, ids, built, now)  # before signing: signed sessions take no stock rows
    _write_provider_signatures(store, Actor(ids["provider"], "provider"),
                               _key(store, ids["provider"], passwords["provider"]), built)

    live = [b.id for b in built if b.plan.in_progress]
    return DemoReport(
        clinic_name=DEMO_CLINIC_NAME, passwords=passwords, patients=len(patients),
        sessions=len(built), signed=sum(1 for b in built if b.provider_sign_at is not None),
        in_progress_session_id=live[0] if live else None,
        vitals=sum(len(b.children.get("vitals", [])) for b in built))


__all__ = ["DEMO_CLINIC_NAME", "DemoReport", "create_demo", "demo_password"]
