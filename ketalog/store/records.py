"""Rows <-> domain entities. Storage format knowledge (ISO text, 0/1 flags, JSON
columns) lives here and nowhere else."""

from __future__ import annotations

import json
from datetime import date, datetime

from ketalog.domain.acknowledgements import Acknowledgement
from ketalog.domain.allergies import Allergy
from ketalog.domain.clock import from_iso, to_iso
from ketalog.domain.entities import (
    Addendum,
    AdjunctMedication,
    Bag,
    DoseEvent,
    DoseKind,
    FollowUp,
    InfusionSession,
    Note,
    Patient,
    Phase,
    Protocol,
    RecordedCheck,
    Role,
    Score,
    SessionStatus,
    Severity,
    SideEffect,
    Signature,
    User,
    VitalsReading,
)
from ketalog.domain.formulary import FormularyEntry
from ketalog.domain.series import SeriesKind, TreatmentSeries

Row = dict[str, object]


def iso_or_none(value: datetime | None) -> str | None:
    return None if value is None else to_iso(value)


def dt_or_none(value: object) -> datetime | None:
    return None if value in (None, "") else from_iso(str(value))


def date_or_none(value: object) -> date | None:
    return None if value in (None, "") else date.fromisoformat(str(value))


def strike_fields(row: Row) -> dict[str, object]:
    """The entered-in-error columns (NULL on rows never struck, and on rows written
    before the columns existed)."""
    return {"struck_reason": str(row.get("struck_reason") or ""),
            "struck_at": dt_or_none(row.get("struck_at")),
            "struck_by": None if row.get("struck_by") is None else int(row["struck_by"])}  # type: ignore[arg-type]


def user_from_row(row: Row, roles: list[str]) -> User:
    return User(id=int(row["id"]), username=str(row["username"]),  # type: ignore[arg-type]
                display_name=str(row["display_name"]), credentials=str(row["credentials"]),
                roles=frozenset(Role(r) for r in roles), failed_logins=int(row["failed_logins"]),  # type: ignore[arg-type]
                locked=bool(row["locked"]), active=bool(row["active"]))


def patient_from_row(row: Row) -> Patient:
    return Patient(
        id=int(row["id"]), uuid=str(row["uuid"]), mrn=str(row["mrn"]),  # type: ignore[arg-type]
        family_name=str(row["family_name"]), given_name=str(row["given_name"]),
        birth_date=date.fromisoformat(str(row["birth_date"])), sex=str(row["sex"]),
        allergies=str(row["allergies"]), indication=str(row["indication"]),
        referring_provider=str(row["referring_provider"]),
        contraindication_screen=str(row["contraindication_screen"]),
        consent_date=date_or_none(row["consent_date"]), notes=str(row["notes"]))


def protocol_from_row(row: Row) -> Protocol:
    return Protocol(
        id=int(row["id"]), uuid=str(row["uuid"]), name=str(row["name"]),  # type: ignore[arg-type]
        indication=str(row["indication"]), bolus_mg_per_kg=float(row["bolus_mg_per_kg"]),  # type: ignore[arg-type]
        rate_mg_per_kg_per_h=float(row["rate_mg_per_kg_per_h"]),  # type: ignore[arg-type]
        duration_min=int(row["duration_min"]), series_length=int(row["series_length"]),  # type: ignore[arg-type]
        max_total_mg=None if row["max_total_mg"] is None else float(row["max_total_mg"]),  # type: ignore[arg-type]
        monitoring_interval_min=int(row["monitoring_interval_min"]),  # type: ignore[arg-type]
        retired=bool(row["retired"]))


def session_from_row(row: Row) -> InfusionSession:
    return InfusionSession(
        id=int(row["id"]), uuid=str(row["uuid"]), patient_id=int(row["patient_id"]),  # type: ignore[arg-type]
        protocol_id=None if row["protocol_id"] is None else int(row["protocol_id"]),  # type: ignore[arg-type]
        series_number=int(row["series_number"]), series_total=int(row["series_total"]),  # type: ignore[arg-type]
        chair=str(row["chair"]),
        nurse_id=None if row["nurse_id"] is None else int(row["nurse_id"]),  # type: ignore[arg-type]
        provider_id=None if row["provider_id"] is None else int(row["provider_id"]),  # type: ignore[arg-type]
        weight_kg=float(row["weight_kg"]),  # type: ignore[arg-type]
        bag=Bag(str(row["bag_drug"]), float(row["bag_concentration_mg_per_ml"]),  # type: ignore[arg-type]
                float(row["bag_volume_ml"]), str(row["bag_lot"]),  # type: ignore[arg-type]
                date_or_none(row["bag_expiry"])),
        status=SessionStatus(str(row["status"])),
        arrival_at=dt_or_none(row["arrival_at"]),
        infusion_start_at=dt_or_none(row["infusion_start_at"]),
        infusion_end_at=dt_or_none(row["infusion_end_at"]),
        discharge_at=dt_or_none(row["discharge_at"]),
        discharge_escort=str(row["discharge_escort"]),
        discharge_instructions=str(row["discharge_instructions"]),
        series_id=None if row.get("series_id") is None else int(row["series_id"]),  # type: ignore[arg-type]
        discharge_readiness=tuple(
            RecordedCheck(str(c["code"]), bool(c["passed"]), str(c["message"]),
                          str(c["source"]), c.get("acknowledged"))
            for c in json.loads(str(row.get("discharge_readiness") or "[]"))))


def _local_day(value: datetime | None) -> date | None:
    return None if value is None else value.astimezone().date()


def series_from_row(row: Row) -> TreatmentSeries:
    return TreatmentSeries(
        id=int(row["id"]), uuid=str(row["uuid"]), patient_id=int(row["patient_id"]),  # type: ignore[arg-type]
        protocol_id=None if row["protocol_id"] is None else int(row["protocol_id"]),  # type: ignore[arg-type]
        kind=SeriesKind(str(row["kind"])), planned_sessions=int(row["planned_sessions"]),  # type: ignore[arg-type]
        start_date=date.fromisoformat(str(row["start_date"])), goal=str(row["goal"]),
        next_session_on=date_or_none(row["next_session_on"]),
        closed_on=_local_day(dt_or_none(row["closed_at"])), closed_reason=str(row["closed_reason"]))


def dose_from_row(row: Row) -> DoseEvent:
    return DoseEvent(
        id=int(row["id"]), uuid=str(row["uuid"]), session_id=int(row["session_id"]),  # type: ignore[arg-type]
        at=from_iso(str(row["at"])), kind=DoseKind(str(row["kind"])),
        bolus_mg=None if row["bolus_mg"] is None else float(row["bolus_mg"]),  # type: ignore[arg-type]
        rate_mg_per_h=None if row["rate_mg_per_h"] is None else float(row["rate_mg_per_h"]),  # type: ignore[arg-type]
        weight_kg=None if row["weight_kg"] is None else float(row["weight_kg"]),  # type: ignore[arg-type]
        reason=str(row["reason"]),
        acknowledged_warnings=tuple(json.loads(str(row["acknowledged_warnings"]))),
        **strike_fields(row))  # type: ignore[arg-type]


def vitals_from_row(row: Row) -> VitalsReading:
    def num(key: str) -> float | None:
        value = row[key]
        return None if value is None else float(value)  # type: ignore[arg-type]

    return VitalsReading(
        id=int(row["id"]), uuid=str(row["uuid"]), session_id=int(row["session_id"]),  # type: ignore[arg-type]
        at=from_iso(str(row["at"])), sbp_mmhg=num("sbp_mmhg"), dbp_mmhg=num("dbp_mmhg"),
        map_mmhg=num("map_mmhg"), map_derived=bool(row["map_derived"]), hr_bpm=num("hr_bpm"),
        spo2_pct=num("spo2_pct"), rr_per_min=num("rr_per_min"), etco2_mmhg=num("etco2_mmhg"),
        temp_c=num("temp_c"), source=str(row["source"]),
        alerts=tuple(json.loads(str(row["alerts"]))), late_entry=bool(row["late_entry"]),
        artifact=bool(row["artifact"]), artifact_reason=str(row["artifact_reason"]))


def _int(row: Row, key: str) -> int:
    return int(row[key])  # type: ignore[arg-type]


def _opt_float(row: Row, key: str) -> float | None:
    value = row[key]
    return None if value is None else float(value)  # type: ignore[arg-type]


def adjunct_from_row(row: Row) -> AdjunctMedication:
    return AdjunctMedication(_int(row, "id"), str(row["uuid"]), _int(row, "session_id"),
                             from_iso(str(row["at"])), str(row["drug"]),
                             float(row["dose"]), str(row["unit"]), str(row["route"]),  # type: ignore[arg-type]
                             str(row["reason"]), **strike_fields(row))  # type: ignore[arg-type]


def score_from_row(row: Row) -> Score:
    return Score(_int(row, "id"), str(row["uuid"]), _int(row, "session_id"),
                 from_iso(str(row["at"])), str(row["scale"]), _int(row, "value"),
                 Phase(str(row["phase"])), dict(json.loads(str(row["items"]))),
                 **strike_fields(row))  # type: ignore[arg-type]


def side_effect_from_row(row: Row) -> SideEffect:
    return SideEffect(_int(row, "id"), str(row["uuid"]), _int(row, "session_id"),
                      from_iso(str(row["onset_at"])), str(row["kind"]),
                      Severity(str(row["severity"])), str(row["action"]),
                      dt_or_none(row["resolved_at"]), str(row["note"]),
                      **strike_fields(row))  # type: ignore[arg-type]


def note_from_row(row: Row) -> Note:
    return Note(_int(row, "id"), str(row["uuid"]), _int(row, "session_id"),
                from_iso(str(row["at"])), _int(row, "author_id"), str(row["text"]),
                **strike_fields(row))  # type: ignore[arg-type]


def follow_up_from_row(row: Row) -> FollowUp:
    return FollowUp(_int(row, "id"), str(row["uuid"]), _int(row, "session_id"),
                    from_iso(str(row["at"])),
                    None if row["nrs"] is None else _int(row, "nrs"),
                    _opt_float(row, "relief_hours"),
                    None if row["phq9"] is None else _int(row, "phq9"),
                    str(row["source"]), str(row["note"]), **strike_fields(row),  # type: ignore[arg-type]
                    phq9_items=dict(json.loads(str(row.get("phq9_items") or "{}"))),
                    phq9_total_only=bool(row.get("phq9_total_only")),
                    safety_ack_at=dt_or_none(row.get("safety_ack_at")),
                    safety_ack_by=None if row.get("safety_ack_by") is None
                    else int(row["safety_ack_by"]),  # type: ignore[call-overload]
                    safety_ack_note=str(row.get("safety_ack_note") or ""))


def signature_from_row(row: Row) -> Signature:
    return Signature(_int(row, "id"), str(row["uuid"]), _int(row, "session_id"),
                     _int(row, "user_id"), from_iso(str(row["at"])), str(row["meaning"]),
                     str(row["content_hash"]))


def addendum_from_row(row: Row) -> Addendum:
    return Addendum(_int(row, "id"), str(row["uuid"]), _int(row, "session_id"),
                    _int(row, "author_id"), from_iso(str(row["at"])), str(row["reason"]),
                    str(row["text"]))


def acknowledgement_from_row(row: Row) -> Acknowledgement:
    return Acknowledgement(_int(row, "id"), str(row["uuid"]), _int(row, "session_id"),
                           from_iso(str(row["at"])), str(row["kind"]),
                           str(row["subject_table"]), str(row["subject_uuid"]),
                           str(row["warning"]), str(row["source"]), str(row["response"]),
                           None if row["entered_by"] is None else _int(row, "entered_by"))


def allergy_from_row(row: Row) -> Allergy:
    return Allergy(str(row["substance"]), str(row["reaction"]), str(row["severity"]),
                   _int(row, "id"), str(row["uuid"]))


def formulary_from_row(row: Row) -> FormularyEntry:
    def number(name: str) -> float | None:
        value = row[name]
        return None if value is None else float(value)  # type: ignore[arg-type]
    return FormularyEntry(str(row["drug"]), str(row["drug_class"]), str(row["route"]),
                          str(row["unit"]), number("dose_min"), number("dose_max"),
                          str(row["source"]), _int(row, "id"), str(row["uuid"]),
                          bool(row["retired"]))
