"""Infusion sessions: what a nurse records live, what a provider signs.

Every entry is saved the moment it is made (its own durable transaction). A completed
session takes no new clinical rows until reopened; a signed one never does (the store's
triggers enforce that too): corrections are addenda."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ketalog.domain import dosing, signing
from ketalog.domain.alerts import AlertThresholds
from ketalog.domain.allergies import ALLERGY_CODE
from ketalog.domain.clock import from_iso, to_iso
from ketalog.domain.discharge import ReadinessCheck, impossible_discharge, readiness_checks
from ketalog.domain.entities import (
    Bag,
    DoseEvent,
    DoseKind,
    InfusionSession,
    Phase,
    Role,
    SessionStatus,
    Severity,
    VitalsReading,
)
from ketalog.domain.errors import PlausibilityError
from ketalog.domain.plausibility import (
    require_positive,
    validate_nrs,
    validate_vitals,
    validate_weight_kg,
)
from ketalog.domain.scales import SCALES, ScaleResult
from ketalog.domain.signing import SigningKey
from ketalog.domain.vitals import derive_map_mmhg
from ketalog.services import allergies as allergy_service
from ketalog.services import formulary as formulary_service
from ketalog.services import series as series_service
from ketalog.services.anchors import write_anchor
from ketalog.services.auth import reauthenticate
from ketalog.services.context import RECORD_READERS, Context
from ketalog.services.errors import (
    InvalidState,
    ReadinessNotAcknowledged,
    ServiceError,
    WarningsNotAcknowledged,
    service_boundary,
)
from ketalog.services.indications import rule_key
from ketalog.services.protocols import require_usable_protocol
from ketalog.services.settings import (
    LATE_ENTRY_AFTER_MIN,
    alert_thresholds_without_login,
    readiness_rules,
)
from ketalog.services.signing_keys import open_key, replace_missing_key, session_signature
from ketalog.store import acknowledgements as acknowledgements_store
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
from ketalog.store import vitals as vitals_store
from ketalog.store.store import Store, Writer, new_uuid

CLINICAL = (Role.NURSE, Role.PROVIDER)
NURSE_SIGNATURE = signing.NURSE_SIGNATURE
PROVIDER_SIGNATURE = signing.PROVIDER_SIGNATURE
FUTURE_TOLERANCE = timedelta(minutes=1)


@dataclass(frozen=True)
class SessionStart:
    patient_id: int
    weight_kg: float
    bag: Bag
    protocol_id: int | None = None
    chair: str = ""
    series_number: int = 1
    series_total: int = 1
    provider_id: int | None = None
    arrival_at: datetime | None = None
    series_id: int | None = None  # when set, k of N come from the series


@service_boundary
def read_session(ctx: Context, session_id: int) -> InfusionSession:
    """A session as a screen reads it (reader roles checked); services share
    `get_session` on the store."""
    ctx.require(*RECORD_READERS, action="read patients' records")
    return get_session(ctx.store, session_id)


@service_boundary
def get_session(store: Store, session_id: int) -> InfusionSession:
    session = sessions_store.get(store, session_id)
    if session is None:
        raise ServiceError(f"no session with id {session_id}")
    return session


def _entry_time(ctx: Context, at: datetime | None) -> tuple[str, bool]:
    return _entry_time_at(ctx.clock.now(), at)


def _entry_time_at(now: datetime, at: datetime | None) -> tuple[str, bool]:
    """(stored time, late flag). Entries may be back-dated (late), never future-dated."""
    when = now if at is None else at
    if when.tzinfo is None:
        raise PlausibilityError.single("at", when, "timezone-aware time",
                                       "Entry time must carry a timezone")
    if when > now + FUTURE_TOLERANCE:
        raise PlausibilityError.single("at", to_iso(when), f"<= now ({to_iso(now)})",
                                       "Entry time cannot be in the future")
    return to_iso(when), (now - when) > timedelta(minutes=LATE_ENTRY_AFTER_MIN)


def _open_for_entries(ctx: Context, session_id: int) -> InfusionSession:
    return open_for_entries(ctx.store, session_id)


@service_boundary
def open_for_entries(store: Store, session_id: int) -> InfusionSession:
    """The session, if it still takes entries (draft or in progress)."""
    session = get_session(store, session_id)
    if session.status is SessionStatus.SIGNED:
        raise InvalidState("this session is signed and locked; add an addendum instead")
    if session.status is SessionStatus.COMPLETED:
        raise InvalidState("this session is completed; reopen it (with a reason) to add entries")
    return session


def _indication(ctx: Context, session: InfusionSession) -> tuple[str, str, float | None, int]:
    """(guideline rule key, protocol name, max total mg, planned duration min): the rules
    come from the clinic's coded indications (services.indications.rule_key)."""
    if session.protocol_id is not None:
        p = protocol_rows.protocol(ctx.store, session.protocol_id)
        if p is not None:
            # A protocol without an indication is judged by the patient's (never by none).
            indication = rule_key(ctx.store, p.indication, session.patient_id)
            return indication, p.name, p.max_total_mg, p.duration_min
    return _patient_indication(ctx, session), "no protocol", None, 0


def _patient_indication(ctx: Context, session: InfusionSession) -> str:
    return rule_key(ctx.store, "", session.patient_id)


@service_boundary
def start_session(ctx: Context, data: SessionStart) -> InfusionSession:
    """Open a session record (status draft) for a patient at a chair."""
    ctx.require(Role.NURSE, action="start infusion sessions")
    weight = validate_weight_kg(data.weight_kg)
    conc = require_positive("bag_concentration_mg_per_ml", "Bag concentration",
                            data.bag.concentration_mg_per_ml, "mg/mL", 100)
    volume = require_positive("bag_volume_ml", "Bag volume", data.bag.volume_ml, "mL", 5000)
    if not patient_rows.patient_exists(ctx.store, data.patient_id):
        raise ServiceError(f"no patient with id {data.patient_id}")
    require_usable_protocol(ctx.store, data.protocol_id)
    series_number, series_total = _series_position(ctx, data)
    today = ctx.clock.now().astimezone().date()  # the clinic's calendar day, not UTC's
    if data.bag.expiry is not None and data.bag.expiry < today:
        raise PlausibilityError.single("bag_expiry", data.bag.expiry.isoformat(),
                                       f">= {today}", "The bag is past its expiry date")
    arrival, _ = _entry_time(ctx, data.arrival_at)
    row = {"patient_id": data.patient_id, "protocol_id": data.protocol_id,
           "series_number": series_number, "series_total": series_total,
           "series_id": data.series_id, "chair": data.chair.strip(), "nurse_id": ctx.user.id,
           "provider_id": data.provider_id, "weight_kg": weight,
           "bag_drug": data.bag.drug.strip() or "ketamine",
           "bag_concentration_mg_per_ml": conc, "bag_volume_ml": volume,
           "bag_lot": data.bag.lot.strip(),
           "bag_expiry": data.bag.expiry.isoformat() if data.bag.expiry else None,
           "status": SessionStatus.DRAFT.value, "arrival_at": arrival,
           "created_at": to_iso(ctx.clock.now())}
    with ctx.store.write(ctx.actor) as w:
        sid = sessions_store.insert(w, row)
        if data.series_id is not None:  # the planned session has happened
            series_store.update(w, data.series_id, {"next_session_on": None},
                                "session started")
    return get_session(ctx.store, sid)


def _series_position(ctx: Context, data: SessionStart) -> tuple[int, int]:
    """(k, N): from the series when the session belongs to one, else as entered."""
    if data.series_id is None:
        if not 1 <= data.series_number <= data.series_total:
            raise PlausibilityError.single("series_number", data.series_number,
                                           f"1-{data.series_total}",
                                           f"Series number must be 1-{data.series_total}")
        return data.series_number, data.series_total
    current = series_service.series_for_session(ctx.store, data.series_id)
    assert current is not None
    if current.series.patient_id != data.patient_id:
        raise InvalidState("that treatment series belongs to another patient")
    k = current.next_number
    if k is None:
        raise InvalidState(f"this treatment series is {current.state.value}; "
                           "start a new series for further sessions")
    return k, current.series.planned_sessions


@service_boundary
def record_vitals(ctx: Context, session_id: int, values: Mapping[str, float | None],
                  at: datetime | None = None, source: str = "manual") -> VitalsReading:
    """Validate (reject implausible), derive MAP, flag alerts, store durably."""
    ctx.require(*CLINICAL, action="record vitals")
    row = vitals_row(ctx.store, ctx.clock.now(), session_id, values, at, source, ctx.user.id)
    with ctx.store.write(ctx.actor) as w:
        return vitals_store.insert_reading(w, row)


@service_boundary
def vitals_row(store: Store, now: datetime, session_id: int,
               values: Mapping[str, float | None], at: datetime | None, source: str,
               entered_by: int | None, thresholds: AlertThresholds | None = None
               ) -> dict[str, object]:
    """The checked vitals row (implausible rejected, MAP derived, alerts flagged): manual
    entry and the monitor feed store the same rows by the same rules."""
    clean = {k: v for k, v in values.items() if v is not None}
    validate_vitals(clean)
    open_for_entries(store, session_id)
    when, late = _entry_time_at(now, at)
    derived = False
    if "map_mmhg" not in clean and "sbp_mmhg" in clean and "dbp_mmhg" in clean:
        clean["map_mmhg"] = derive_map_mmhg(clean["sbp_mmhg"], clean["dbp_mmhg"])
        derived = True
    alerts = [a.field for a in
              (thresholds or alert_thresholds_without_login(store)).evaluate(clean)]
    return {"session_id": session_id, "at": when, **{k: float(v) for k, v in clean.items()},
            "map_derived": int(derived), "source": source, "alerts": json.dumps(alerts),
            "late_entry": int(late), "entered_at": to_iso(now), "entered_by": entered_by}


@service_boundary
def mark_artifact(ctx: Context, vitals_id: int, reason: str) -> None:
    """Strike a reading through (never delete it), with the reason."""
    ctx.require(*CLINICAL, action="mark artifacts")
    if not reason.strip():
        raise PlausibilityError.single("artifact_reason", reason, "required",
                                       "Give a reason for marking the reading as artifact")
    reading = vitals_store.get(ctx.store, vitals_id)
    if reading is None:
        raise ServiceError(f"no vitals reading with id {vitals_id}")
    _open_for_entries(ctx, reading.session_id)
    with ctx.store.write(ctx.actor) as w:
        vitals_store.mark_artifact(w, vitals_id, reason.strip())


@service_boundary
def dose_events(store: Store, session_id: int) -> list[DoseEvent]:
    return doses_store.of_session(store, session_id)


@service_boundary
def vitals(store: Store, session_id: int) -> list[VitalsReading]:
    return vitals_store.of_session(store, session_id)


RATE_KINDS = (DoseKind.START, DoseKind.RATE_CHANGE, DoseKind.RESUME)


@service_boundary
def dose_warnings(ctx: Context, session: InfusionSession, kind: DoseKind, at: datetime,
                  bolus_mg: float | None, rate_mg_per_h: float | None) -> list[dosing.DoseWarning]:
    """The soft warnings an entry would raise: every rate the pump will carry (a start,
    a restart after stop, a rate change, a resume with a new rate) and every bolus.
    record_dose refuses the entry until they are acknowledged; the UI shows them first."""
    if session.id is None:
        raise InvalidState("this session has not been saved yet")
    indication, protocol_name, max_total, duration = _indication(ctx, session)
    events = dose_events(ctx.store, session.id)
    given = dosing.running_total_mg(events, at)
    warnings: list[dosing.DoseWarning] = []
    if kind is DoseKind.BOLUS and bolus_mg:
        warnings += dosing.bolus_warnings(bolus_mg, session.weight_kg, indication)
        warnings += dosing.total_warnings(given + bolus_mg, max_total, protocol_name)
    elif kind in RATE_KINDS and rate_mg_per_h:
        runs = dosing.segments([e for e in events if e.at <= at])
        # the rate the pump carried until now (a restart after stop is judged afresh)
        previous = (runs[-1].rate_mg_per_h if runs and kind is not DoseKind.START else None)
        warnings += dosing.rate_warnings(rate_mg_per_h, session.weight_kg, indication,
                                         slowing_from_mg_per_h=previous)
        start = session.infusion_start_at or at
        remaining_h = max(0.0, (start + timedelta(minutes=duration) - at).total_seconds() / 3600)
        warnings += dosing.total_warnings(given + rate_mg_per_h * remaining_h, max_total,
                                          protocol_name)
    return warnings


@service_boundary
def record_dose(ctx: Context, session_id: int, kind: DoseKind | str, *,
                at: datetime | None = None, bolus_mg: float | None = None,
                rate_mg_per_h: float | None = None, reason: str = "",
                acknowledge: bool = False, allergy_reason: str = "") -> DoseEvent:
    """Bolus, start, rate change, pause, resume or stop. Soft warnings must be
    acknowledged (acknowledge=True after the nurse has seen them); they are recorded.
    A start or bolus of a drug the patient's allergy list matches also needs
    `allergy_reason` (stored as an acknowledgement of the event)."""
    ctx.require(*CLINICAL, action="record doses")
    kind = DoseKind(kind)
    session = _open_for_entries(ctx, session_id)
    when_text, _late = _entry_time(ctx, at)
    when = from_iso(when_text)
    if bolus_mg is not None:
        bolus_mg = require_positive("bolus_mg", "Bolus", bolus_mg, "mg", 500)
    if rate_mg_per_h is not None:
        rate_mg_per_h = require_positive("rate_mg_per_h", "Rate", rate_mg_per_h, "mg/h", 1000)
    if kind is DoseKind.BOLUS and bolus_mg is None:
        raise PlausibilityError.single("bolus_mg", None, "> 0 mg", "A bolus needs a dose in mg")
    if kind in (DoseKind.START, DoseKind.RATE_CHANGE) and rate_mg_per_h is None:
        raise PlausibilityError.single("rate_mg_per_h", None, "> 0 mg/h",
                                       f"{kind.value.replace('_', ' ')} needs a rate in mg/h")
    existing = dose_events(ctx.store, session_id)
    candidate = DoseEvent(None, "", session_id, when, kind,
                          bolus_mg if kind is DoseKind.BOLUS else None,
                          rate_mg_per_h if kind in (DoseKind.START, DoseKind.RATE_CHANGE,
                                                    DoseKind.RESUME) else None,
                          session.weight_kg, reason)
    dosing.validate_timeline([*existing, candidate])
    warnings = dose_warnings(ctx, session, kind, when, candidate.bolus_mg,
                             candidate.rate_mg_per_h)
    allergy = (allergy_service.medication_allergy_warnings(ctx.store, session.patient_id,
                                                           session.bag.drug)
               if kind in (DoseKind.START, DoseKind.BOLUS) else [])
    if (warnings and not acknowledge) or (allergy and not allergy_reason.strip()):
        raise WarningsNotAcknowledged([*allergy, *warnings])
    row = {"uuid": new_uuid(), "session_id": session_id, "at": when_text, "kind": kind.value,
           "bolus_mg": candidate.bolus_mg, "rate_mg_per_h": candidate.rate_mg_per_h,
           "weight_kg": session.weight_kg, "reason": reason.strip(),
           "acknowledged_warnings": json.dumps([w.as_text() for w in warnings]),
           "entered_at": to_iso(ctx.clock.now()), "entered_by": ctx.user.id}
    session_changes: dict[str, object] = {}
    if kind is DoseKind.START:
        if session.infusion_start_at is None:  # a restart keeps the first start
            session_changes["infusion_start_at"] = when_text
        session_changes["infusion_end_at"] = None  # running again: no end yet
        if session.status is SessionStatus.DRAFT:
            session_changes["status"] = SessionStatus.IN_PROGRESS.value
    if kind is DoseKind.STOP:
        session_changes["infusion_end_at"] = when_text  # the infusion ends at its last stop
    with ctx.store.write(ctx.actor) as w:
        did = doses_store.insert(w, row)
        if session_changes:
            sessions_store.update(w, session_id, session_changes)
        for ack in _acknowledgement_rows(ctx, session_id, "dose_events", str(row["uuid"]),
                                         when_text, allergy_reason, allergy):
            acknowledgements_store.insert(w, ack, reason=allergy_reason.strip())
    dose = doses_store.get(ctx.store, did)
    assert dose is not None
    return dose


@dataclass(frozen=True)
class AdjunctCheck:
    """What an adjunct entry would raise: warnings that need an acknowledgement with a
    reason (allergy, formulary), and a note when the formulary cannot check the dose."""

    allergy: tuple[dosing.DoseWarning, ...]
    formulary: tuple[dosing.DoseWarning, ...]
    note: str

    @property
    def warnings(self) -> list[dosing.DoseWarning]:
        return [*self.allergy, *self.formulary]


@service_boundary
def check_adjunct(ctx: Context, session_id: int, drug: str, dose: float, unit: str,
                  route: str) -> AdjunctCheck:
    """The allergy and formulary warnings a medication would raise, before it is given."""
    ctx.require(*RECORD_READERS, action="check a medication")
    store = ctx.store
    session = get_session(store, session_id)
    found = formulary_service.check(store, drug, dose, unit, route)
    return AdjunctCheck(
        tuple(allergy_service.medication_allergy_warnings(store, session.patient_id, drug)),
        found.warnings, found.note)


def _acknowledgement_rows(ctx: Context, session_id: int, subject_table: str,
                          subject_uuid: str, at: str, reason: str,
                          warnings: Sequence[dosing.DoseWarning]) -> list[dict[str, object]]:
    return [{"session_id": session_id, "at": at,
             "kind": "allergy" if w.code == ALLERGY_CODE else "formulary",
             "subject_table": subject_table, "subject_uuid": subject_uuid,
             "warning": w.message, "source": w.source, "response": reason.strip(),
             "entered_at": to_iso(ctx.clock.now()), "entered_by": ctx.user.id}
            for w in warnings]


def _require_reason(warnings: Sequence[dosing.DoseWarning], reason: str) -> None:
    if warnings and not reason.strip():
        raise WarningsNotAcknowledged(list(warnings))


@service_boundary
def add_adjunct(ctx: Context, session_id: int, drug: str, dose: float, unit: str, route: str,
                reason: str = "", at: datetime | None = None,
                acknowledgement: str = "") -> int:
    """Record an adjunct. An allergy match, a dose outside the formulary's usual range or
    an unusual unit is refused until `acknowledgement` gives the reason to give it anyway
    (stored, audited, printed). A drug the formulary does not list needs no reason."""
    ctx.require(*CLINICAL, action="record medications")
    if not drug.strip():
        raise PlausibilityError.single("drug", drug, "required", "Drug name is required")
    amount = require_positive("dose", "Dose", dose, unit or "units", 10000)
    if not unit.strip() or not route.strip():
        raise PlausibilityError.single("unit" if not unit.strip() else "route", "", "required",
                                       "Dose unit and route are required")
    _open_for_entries(ctx, session_id)
    when, _ = _entry_time(ctx, at)
    checked = check_adjunct(ctx, session_id, drug, amount, unit.strip(), route)
    _require_reason(checked.warnings, acknowledgement)
    adjunct_uuid = new_uuid()
    row = {"uuid": adjunct_uuid, "session_id": session_id, "at": when, "drug": drug.strip(),
           "dose": amount, "unit": unit.strip(), "route": route.strip(),
           "reason": reason.strip(), "entered_at": to_iso(ctx.clock.now()),
           "entered_by": ctx.user.id}
    with ctx.store.write(ctx.actor) as w:
        adjunct_id = adjuncts_store.insert(w, row)
        for ack in _acknowledgement_rows(ctx, session_id, "adjunct_medications",
                                         adjunct_uuid, when, acknowledgement,
                                         checked.warnings):
            acknowledgements_store.insert(w, ack, reason=acknowledgement.strip())
    return adjunct_id


@service_boundary
def add_side_effect(ctx: Context, session_id: int, kind: str, severity: Severity | str,
                    action: str = "", onset_at: datetime | None = None,
                    resolved_at: datetime | None = None, note: str = "") -> int:
    ctx.require(*CLINICAL, action="record side effects")
    if not kind.strip():
        raise PlausibilityError.single("kind", kind, "required", "Side-effect kind is required")
    severity = Severity(severity)
    _open_for_entries(ctx, session_id)
    onset, _ = _entry_time(ctx, onset_at)
    resolved = None
    if resolved_at is not None:
        resolved, _ = _entry_time(ctx, resolved_at)
        if resolved < onset:
            raise PlausibilityError.single("resolved_at", resolved, f">= onset {onset}",
                                           "Resolution cannot be before onset")
    with ctx.store.write(ctx.actor) as w:
        return side_effects_store.insert(w, {
            "session_id": session_id, "onset_at": onset, "kind": kind.strip(),
            "severity": severity.value, "action": action.strip(), "resolved_at": resolved,
            "note": note, "entered_at": to_iso(ctx.clock.now()), "entered_by": ctx.user.id})


@service_boundary
def resolve_side_effect(ctx: Context, side_effect_id: int, resolved_at: datetime | None = None,
                        action: str | None = None) -> None:
    ctx.require(*CLINICAL, action="record side effects")
    effect = side_effects_store.get(ctx.store, side_effect_id)
    if effect is None:
        raise ServiceError(f"no side effect with id {side_effect_id}")
    _open_for_entries(ctx, effect.session_id)
    if effect.resolved_at is not None:
        raise InvalidState(f"this side effect was already resolved at "
                           f"{to_iso(effect.resolved_at)}; add a note to correct it")
    resolved, _ = _entry_time(ctx, resolved_at)
    onset = to_iso(effect.onset_at)
    if resolved < onset:
        raise PlausibilityError.single("resolved_at", resolved, f">= onset {onset}",
                                       "Resolution cannot be before onset")
    with ctx.store.write(ctx.actor) as w:
        side_effects_store.resolve(w, side_effect_id, resolved,
                                   None if action is None else action.strip())


@service_boundary
def add_score(ctx: Context, session_id: int, scale: str, phase: Phase | str, *,
              value: int | None = None, items: Mapping[str, int] | None = None,
              at: datetime | None = None) -> ScaleResult:
    ctx.require(*CLINICAL, action="record scores")
    if scale not in SCALES:
        raise PlausibilityError.single("scale", scale, "/".join(SCALES),
                                       f"Unknown scale {scale!r}")
    result = SCALES[scale].score(value=value, items=items)
    phase = Phase(phase)
    _open_for_entries(ctx, session_id)
    when, _ = _entry_time(ctx, at)
    with ctx.store.write(ctx.actor) as w:
        scores_store.insert(w, {"session_id": session_id, "at": when, "scale": scale,
                                "value": result.total, "phase": phase.value,
                                "items": json.dumps(dict(items or {}), sort_keys=True),
                                "entered_at": to_iso(ctx.clock.now()),
                                "entered_by": ctx.user.id})
    return result


@service_boundary
def add_note(ctx: Context, session_id: int, text: str, at: datetime | None = None) -> int:
    ctx.require(*CLINICAL, action="write notes")
    if not text.strip():
        raise PlausibilityError.single("text", text, "required", "A note cannot be empty")
    _open_for_entries(ctx, session_id)
    when, _ = _entry_time(ctx, at)
    with ctx.store.write(ctx.actor) as w:
        return notes_store.insert(w, {"session_id": session_id, "at": when,
                                      "author_id": ctx.user.id, "text": text,
                                      "entered_at": to_iso(ctx.clock.now())})


@service_boundary
def discharge_checks(ctx: Context, session_id: int, discharge_at: datetime | None = None,
                     escort: str = "") -> list[ReadinessCheck]:
    """The readiness checks Complete would make now (the dialog shows them first).
    Raises PlausibilityError for an impossible discharge time."""
    session = get_session(ctx.store, session_id)
    when = from_iso(_entry_time(ctx, discharge_at)[0])
    events = dose_events(ctx.store, session_id)
    impossible_discharge(when, dosing.infusion_end(events), dosing.last_dose_at(events),
                         session.arrival_at)
    scores = scores_store.of_session(ctx.store, session_id)
    effects = side_effects_store.of_session_as_entered(ctx.store, session_id)
    return readiness_checks(doses=events, scores=scores, side_effects=effects,
                            escort=escort.strip() or session.discharge_escort,
                            discharge_at=when, rules=readiness_rules(ctx))


@service_boundary
def complete_session(ctx: Context, session_id: int, discharge_at: datetime | None = None,
                     escort: str = "", instructions: str = "",
                     acknowledged: Mapping[str, str] | None = None) -> list[ReadinessCheck]:
    """The nurse closes the record; her signature covers the content as completed.

    Discharge readiness is checked first: each failed check needs an acknowledgement
    reason in `acknowledged` (check code -> reason), else ReadinessNotAcknowledged; the
    checks and reasons are stored with the session and printed. An impossible discharge
    time (future, before arrival, the infusion's end or the last dose) is refused."""
    ctx.require(Role.NURSE, action="complete sessions")
    ctx.refuse_in_emergency("complete sessions")
    session = _open_for_entries(ctx, session_id)
    state = dosing.infusion_state(dose_events(ctx.store, session_id))
    if state in ("running", "paused"):
        raise InvalidState("the infusion is still running; stop it before completing")
    discharge, _ = _entry_time(ctx, discharge_at)
    checks = discharge_checks(ctx, session_id, from_iso(discharge), escort)
    reasons = {k: v.strip() for k, v in (acknowledged or {}).items() if v and v.strip()}
    failed = [c for c in checks if not c.passed]
    missing = [c for c in failed if c.code not in reasons]
    if missing:
        raise ReadinessNotAcknowledged(missing)
    readiness = [{"code": c.code, "passed": c.passed, "message": c.message,
                  "source": c.source, "acknowledged": reasons.get(c.code) if not c.passed
                  else None} for c in checks]
    with ctx.store.write(ctx.actor) as w:
        sessions_store.update(w, session_id, {
            "status": SessionStatus.COMPLETED.value, "discharge_at": discharge,
            "discharge_escort": escort.strip() or session.discharge_escort,
            "discharge_instructions": instructions.strip() or session.discharge_instructions,
            "discharge_readiness": json.dumps(readiness, sort_keys=True)},
            reason="; ".join(f"{c.code}: {reasons[c.code]}" for c in failed),
            expected={"status": session.status.value})  # not completed meanwhile elsewhere
        _insert_signature(ctx, w, session_id, ctx.signing_key, NURSE_SIGNATURE)
    write_anchor(ctx.store, "completion")
    return checks


@service_boundary
def reopen_session(ctx: Context, session_id: int, reason: str) -> None:
    ctx.require(*CLINICAL, action="reopen sessions")
    if not reason.strip():
        raise PlausibilityError.single("reason", reason, "required", "Give a reason to reopen")
    session = get_session(ctx.store, session_id)
    if session.status is not SessionStatus.COMPLETED:
        raise InvalidState(f"only a completed session can be reopened (this one is "
                           f"{session.status.value.replace('_', ' ')})")
    target = SessionStatus.IN_PROGRESS if session.infusion_start_at else SessionStatus.DRAFT
    with ctx.store.write(ctx.actor) as w:
        sessions_store.update(w, session_id, {"status": target.value}, reason=reason.strip(),
                              expected={"status": SessionStatus.COMPLETED.value})


@service_boundary
def sign_session(ctx: Context, session_id: int, password: str) -> str:
    """Provider signs with the password re-entered; returns the content hash."""
    ctx.require(Role.PROVIDER, action="sign sessions")
    session = get_session(ctx.store, session_id)
    if session.status is SessionStatus.SIGNED:
        raise InvalidState("this session is already signed")
    if session.status is not SessionStatus.COMPLETED:
        raise InvalidState("the nurse must complete the session before it can be signed")
    reauthenticate(ctx, password, "signature")
    key = open_key(ctx.store, ctx.user.id, password)
    with ctx.store.write(ctx.actor) as w:
        sessions_store.lock(w, session_id)
        if get_session(ctx.store, session_id).status is SessionStatus.SIGNED:
            raise InvalidState("this session is already signed")  # by another workstation
        if key is None:
            key = replace_missing_key(ctx.store, w, ctx.user.id, password)
        if session.provider_id is None:
            sessions_store.update(w, session_id, {"provider_id": ctx.user.id})
        digest = _insert_signature(ctx, w, session_id, key, PROVIDER_SIGNATURE)
        sessions_store.update(w, session_id, {"status": SessionStatus.SIGNED.value},
                              expected={"status": SessionStatus.COMPLETED.value})
    write_anchor(ctx.store, "signature")
    return digest


def _insert_signature(ctx: Context, w: Writer, session_id: int, key: SigningKey | None,
                      meaning: str) -> str:
    """Hash the content as it stands and sign the hash with the signer's own key."""
    if key is None:
        raise ServiceError("this login holds no signing key (log out and in again to sign)")
    sessions_store.lock(w, session_id)  # the content hashed is the content committed
    signature = session_signature(ctx.store, key, session_id=session_id,
                                  session_uuid=get_session(ctx.store, session_id).uuid,
                                  user_id=ctx.user.id or 0, at=to_iso(ctx.clock.now()),
                                  meaning=meaning)
    signatures_store.insert(w, signature)
    return str(signature["content_hash"])


@service_boundary
def add_addendum(ctx: Context, session_id: int, reason: str, text: str) -> int:
    ctx.require(*CLINICAL, action="add addenda")
    if not reason.strip() or not text.strip():
        raise PlausibilityError.single("reason" if not reason.strip() else "text", "",
                                       "required", "An addendum needs a reason and a text")
    session = get_session(ctx.store, session_id)
    if session.status not in (SessionStatus.SIGNED, SessionStatus.COMPLETED):
        raise InvalidState("addenda are for completed or signed sessions; edit the record instead")
    with ctx.store.write(ctx.actor) as w:
        return signatures_store.insert_addendum(w, {
            "session_id": session_id, "author_id": ctx.user.id,
            "at": to_iso(ctx.clock.now()), "reason": reason.strip(), "text": text})


@service_boundary
def add_follow_up(ctx: Context, session_id: int, *, nrs: int | None, at: datetime | None = None,
                  relief_hours: float | None = None, phq9: int | None = None,
                  source: str = "phone", note: str = "",
                  phq9_items: Mapping[str, int] | None = None) -> int:
    """Pain (and mood) after discharge: allowed on signed sessions, outside the signature.

    A PHQ-9 comes with its nine items (the total is computed; item 9 above 0 raises the
    safety flag, open until a clinician acknowledges it) or as a total only, marked so."""
    ctx.require(*CLINICAL, action="record follow-ups")
    session = get_session(ctx.store, session_id)
    if nrs is None and phq9 is None and not phq9_items:
        raise PlausibilityError.single("nrs", None, "NRS or PHQ-9",
                                       "A follow-up needs an NRS pain score or a PHQ-9")
    if nrs is not None:
        validate_nrs(nrs)
    items = dict(phq9_items or {})
    if items:
        total = SCALES["phq9"].score(items=items).total
        if phq9 is not None and phq9 != total:
            raise PlausibilityError.single("phq9", phq9, f"= {total} (sum of the items)",
                                           f"PHQ-9 total {phq9} does not match its items "
                                           f"({total})")
        phq9 = total
    elif phq9 is not None:
        SCALES["phq9"].score(value=phq9)
    if relief_hours is not None and not 0 <= relief_hours <= 24 * 365:
        raise PlausibilityError.single("relief_hours", relief_hours, "0-8760 h",
                                       "Relief duration must be 0-8760 hours")
    when, _ = _entry_time(ctx, at)
    infusion_end = session.infusion_end_at or session.infusion_start_at
    if infusion_end and from_iso(when) < infusion_end:
        raise PlausibilityError.single("at", when, f"after {to_iso(infusion_end)}",
                                       "A follow-up must be after the infusion ended")
    with ctx.store.write(ctx.actor) as w:
        return follow_ups_store.insert(w, {
            "session_id": session_id, "at": when, "nrs": nrs, "relief_hours": relief_hours,
            "phq9": phq9, "source": source.strip() or "phone", "note": note,
            "phq9_items": json.dumps(items, sort_keys=True) if items else None,
            "phq9_total_only": None if phq9 is None else int(not items),
            "entered_at": to_iso(ctx.clock.now()), "entered_by": ctx.user.id})


@service_boundary
def acknowledge_safety_flag(ctx: Context, follow_up_id: int, note: str) -> None:
    """A clinician has seen a follow-up's PHQ-9 item-9 flag and says what was done
    (audited); until then the flag shows in the follow-up list and the course view."""
    ctx.require(*CLINICAL, action="acknowledge safety flags")
    if not note.strip():
        raise PlausibilityError.single("safety_ack_note", note, "required",
                                       "Say what was done about the safety flag")
    follow = follow_ups_store.get(ctx.store, follow_up_id)
    if follow is None:
        raise ServiceError(f"no follow-up with id {follow_up_id}")
    if not follow.safety_flag:
        raise InvalidState("this follow-up has no PHQ-9 item-9 safety flag")
    if follow.safety_ack_at is not None:
        raise InvalidState(f"this safety flag was acknowledged at {to_iso(follow.safety_ack_at)}")
    with ctx.store.write(ctx.actor) as w:
        follow_ups_store.acknowledge_safety_flag(w, follow_up_id, to_iso(ctx.clock.now()),
                                                 ctx.user.id, note.strip())
