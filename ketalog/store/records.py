"""Rows <-> domain entities. Storage format knowledge (ISO text, 0/1 flags, JSON
columns) lives here and nowhere else."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import TypedDict

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
    Score,
    SessionStatus,
    Severity,
    SideEffect,
    Signature,
    VitalsReading,
)
from ketalog.domain.series import SeriesKind, TreatmentSeries
from ketalog.store.values import as_float, as_int, opt_float, opt_int

Row = dict[str, object]


def iso_or_none(value: datetime | None) -> str | None:
    return None if value is None else to_iso(value)


def dt_or_none(value: object) -> datetime | None:
    return None if value in (None, "") else from_iso(str(value))


def date_or_none(value: object) -> date | None:
    return None if value in (None, "") else date.fromisoformat(str(value))


class StrikeFields(TypedDict):
    """The entered-in-error fields every struck-through entry carries."""

    struck_reason: str
    struck_at: datetime | None
    struck_by: int | None


def strike_fields(row: Row) -> StrikeFields:
    """The entered-in-error columns (NULL on rows never struck, and on rows written
    before the columns existed)."""
    return {"struck_reason": str(row.get("struck_reason") or ""),
            "struck_at": dt_or_none(row.get("struck_at")),
            "struck_by": opt_int(row.get("struck_by"))}


def patient_from_row(row: Row) -> Patient:
    return Patient(
        id=as_int(row["id"]), uuid=str(row["uuid"]), mrn=str(row["mrn"]),
        family_name=str(row["family_name"]), given_name=str(row["given_name"]),
        birth_date=date.fromisoformat(str(row["birth_date"])), sex=str(row["sex"]),
        allergies=str(row["allergies"]), indication=str(row["indication"]),
        referring_provider=str(row["referring_provider"]),
        contraindication_screen=str(row["contraindication_screen"]),
        consent_date=date_or_none(row["consent_date"]), notes=str(row["notes"]))


def protocol_from_row(row: Row) -> Protocol:
    return Protocol(
        id=as_int(row["id"]), uuid=str(row["uuid"]), name=str(row["name"]),
        indication=str(row["indication"]), bolus_mg_per_kg=as_float(row["bolus_mg_per_kg"]),
        rate_mg_per_kg_per_h=as_float(row["rate_mg_per_kg_per_h"]),
        duration_min=as_int(row["duration_min"]), series_length=as_int(row["series_length"]),
        max_total_mg=opt_float(row["max_total_mg"]),
        monitoring_interval_min=as_int(row["monitoring_interval_min"]),
        retired=bool(row["retired"]))


def session_from_row(row: Row) -> InfusionSession:
    return InfusionSession(
        id=as_int(row["id"]), uuid=str(row["uuid"]), patient_id=as_int(row["patient_id"]),
        protocol_id=opt_int(row["protocol_id"]),
        series_number=as_int(row["series_number"]), series_total=as_int(row["series_total"]),
        chair=str(row["chair"]),
        nurse_id=opt_int(row["nurse_id"]),
        provider_id=opt_int(row["provider_id"]),
        weight_kg=as_float(row["weight_kg"]),
        bag=Bag(str(row["bag_drug"]), as_float(row["bag_concentration_mg_per_ml"]),
                as_float(row["bag_volume_ml"]), str(row["bag_lot"]),
                date_or_none(row["bag_expiry"])),
        status=SessionStatus(str(row["status"])),
        arrival_at=dt_or_none(row["arrival_at"]),
        infusion_start_at=dt_or_none(row["infusion_start_at"]),
        infusion_end_at=dt_or_none(row["infusion_end_at"]),
        discharge_at=dt_or_none(row["discharge_at"]),
        discharge_escort=str(row["discharge_escort"]),
        discharge_instructions=str(row["discharge_instructions"]),
        series_id=opt_int(row.get("series_id")),
        discharge_readiness=tuple(
            RecordedCheck(str(c["code"]), bool(c["passed"]), str(c["message"]),
                          str(c["source"]), c.get("acknowledged"))
            for c in json.loads(str(row.get("discharge_readiness") or "[]"))))


def _local_day(value: datetime | None) -> date | None:
    return None if value is None else value.astimezone().date()


def series_from_row(row: Row) -> TreatmentSeries:
    return TreatmentSeries(
        id=as_int(row["id"]), uuid=str(row["uuid"]), patient_id=as_int(row["patient_id"]),
        protocol_id=opt_int(row["protocol_id"]),
        kind=SeriesKind(str(row["kind"])), planned_sessions=as_int(row["planned_sessions"]),
        start_date=date.fromisoformat(str(row["start_date"])), goal=str(row["goal"]),
        next_session_on=date_or_none(row["next_session_on"]),
        closed_on=_local_day(dt_or_none(row["closed_at"])), closed_reason=str(row["closed_reason"]))


def dose_from_row(row: Row) -> DoseEvent:
    return DoseEvent(
        id=as_int(row["id"]), uuid=str(row["uuid"]), session_id=as_int(row["session_id"]),
        at=from_iso(str(row["at"])), kind=DoseKind(str(row["kind"])),
        bolus_mg=opt_float(row["bolus_mg"]),
        rate_mg_per_h=opt_float(row["rate_mg_per_h"]),
        weight_kg=opt_float(row["weight_kg"]),
        reason=str(row["reason"]),
        acknowledged_warnings=tuple(json.loads(str(row["acknowledged_warnings"]))),
        **strike_fields(row))


def vitals_from_row(row: Row) -> VitalsReading:
    def num(key: str) -> float | None:
        return opt_float(row[key])

    return VitalsReading(
        id=as_int(row["id"]), uuid=str(row["uuid"]), session_id=as_int(row["session_id"]),
        at=from_iso(str(row["at"])), sbp_mmhg=num("sbp_mmhg"), dbp_mmhg=num("dbp_mmhg"),
        map_mmhg=num("map_mmhg"), map_derived=bool(row["map_derived"]), hr_bpm=num("hr_bpm"),
        spo2_pct=num("spo2_pct"), rr_per_min=num("rr_per_min"), etco2_mmhg=num("etco2_mmhg"),
        temp_c=num("temp_c"), source=str(row["source"]),
        alerts=tuple(json.loads(str(row["alerts"]))), late_entry=bool(row["late_entry"]),
        artifact=bool(row["artifact"]), artifact_reason=str(row["artifact_reason"]))


def _int(row: Row, key: str) -> int:
    return as_int(row[key])


def _opt_float(row: Row, key: str) -> float | None:
    return opt_float(row[key])


def adjunct_from_row(row: Row) -> AdjunctMedication:
    return AdjunctMedication(_int(row, "id"), str(row["uuid"]), _int(row, "session_id"),
                             from_iso(str(row["at"])), str(row["drug"]),
                             as_float(row["dose"]), str(row["unit"]), str(row["route"]),
                             str(row["reason"]), **strike_fields(row))


def score_from_row(row: Row) -> Score:
    return Score(_int(row, "id"), str(row["uuid"]), _int(row, "session_id"),
                 from_iso(str(row["at"])), str(row["scale"]), _int(row, "value"),
                 Phase(str(row["phase"])), dict(json.loads(str(row["items"]))),
                 **strike_fields(row))


def side_effect_from_row(row: Row) -> SideEffect:
    return SideEffect(_int(row, "id"), str(row["uuid"]), _int(row, "session_id"),
                      from_iso(str(row["onset_at"])), str(row["kind"]),
                      Severity(str(row["severity"])), str(row["action"]),
                      dt_or_none(row["resolved_at"]), str(row["note"]),
                      **strike_fields(row))


def note_from_row(row: Row) -> Note:
    return Note(_int(row, "id"), str(row["uuid"]), _int(row, "session_id"),
                from_iso(str(row["at"])), _int(row, "author_id"), str(row["text"]),
                **strike_fields(row))


def follow_up_from_row(row: Row) -> FollowUp:
    return FollowUp(_int(row, "id"), str(row["uuid"]), _int(row, "session_id"),
                    from_iso(str(row["at"])),
                    opt_int(row["nrs"]),
                    _opt_float(row, "relief_hours"),
                    opt_int(row["phq9"]),
                    str(row["source"]), str(row["note"]), **strike_fields(row),
                    phq9_items=dict(json.loads(str(row.get("phq9_items") or "{}"))),
                    phq9_total_only=bool(row.get("phq9_total_only")),
                    safety_ack_at=dt_or_none(row.get("safety_ack_at")),
                    safety_ack_by=opt_int(row.get("safety_ack_by")),
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
                           opt_int(row["entered_by"]))


def allergy_from_row(row: Row) -> Allergy:
    return Allergy(str(row["substance"]), str(row["reaction"]), str(row["severity"]),
                   _int(row, "id"), str(row["uuid"]))
