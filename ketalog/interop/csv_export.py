"""Session records -> CSV tables, one per kind (pure; the services write the files).

Rules a spreadsheet user relies on: times are ISO-8601 with their UTC offset, units are
in the column names (sbp_mmhg), a zero is written as 0 and a missing value as an empty
cell, yes/no flags as true/false, and the csv module does the quoting (commas, quotes
and line breaks inside notes survive)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from datetime import date, datetime, tzinfo

from ketalog.domain import dosing
from ketalog.domain.entities import VITAL_FIELDS, DoseKind
from ketalog.domain.record import SessionRecord
from ketalog.domain.scales import SCALES, ScaleError
from ketalog.interop.csv_cells import neutralise

Cell = str
Table = tuple[list[str], list[list[Cell]]]

KINDS: tuple[str, ...] = ("sessions", "vitals", "doses", "medications", "side_effects",
                          "scores", "follow_ups", "notes", "acknowledgements")


def cell(value: object, tz: tzinfo | None = None) -> Cell:
    """One value as text: None -> '', 0 -> '0', floats in their shortest exact form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(tz).isoformat(timespec="milliseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def to_csv_text(table: Table) -> str:
    """The table as CSV; every cell neutralised against formula injection (csv_cells)."""
    header, rows = table
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    writer.writerows([neutralise(c) for c in row] for row in rows)
    return buffer.getvalue()


def _table(columns: Sequence[tuple[str, Callable[[object], object]]], items: Sequence[object],
           tz: tzinfo | None) -> Table:
    return ([name for name, _ in columns],
            [[cell(get(item), tz) for _, get in columns] for item in items])


def _signed(record: SessionRecord, meaning: str) -> tuple[str | None, datetime | None]:
    for sig in reversed(record.signatures):
        if sig.meaning == meaning:
            return record.user_name(sig.user_id), sig.at
    return None, None


def sessions_table(records: Sequence[SessionRecord], tz: tzinfo | None,
                   as_of: datetime | None = None) -> Table:
    """The session total (every bolus, every run; a running one's to `as_of`, the export
    time), from the one calculation the screen and the PDF use."""
    rows = []
    for r in records:
        s = r.session
        last = max((d.at for d in r.doses), default=None)
        now = as_of or last
        total = round(r.total_mg(now), 3) if now is not None else 0.0
        completed_by, completed_at = _signed(r, "completed by nurse")
        signed_by, signed_at = _signed(r, "reviewed and signed by provider")
        rows.append({
            "session_id": s.id, "session_uuid": s.uuid, "patient_mrn": r.patient.mrn,
            "protocol": r.protocol.name if r.protocol else None,
            "series_number": s.series_number, "series_total": s.series_total,
            "chair": s.chair, "status": s.status.value,
            "nurse": r.user_name(s.nurse_id) if s.nurse_id else None,
            "provider": r.user_name(s.provider_id) if s.provider_id else None,
            "weight_kg": s.weight_kg, "bag_drug": s.bag.drug,
            "bag_concentration_mg_per_ml": s.bag.concentration_mg_per_ml,
            "bag_volume_ml": s.bag.volume_ml, "bag_lot": s.bag.lot, "bag_expiry": s.bag.expiry,
            "arrival_at": s.arrival_at, "infusion_start_at": s.infusion_start_at,
            "infusion_end_at": s.infusion_end_at, "discharge_at": s.discharge_at,
            "total_ketamine_mg": total,
            "total_ketamine_mg_per_kg": round(total / s.weight_kg, 4),
            "max_rate_mg_per_h": dosing.max_rate_mg_per_h(r.doses),
            "discharge_escort": s.discharge_escort,
            "discharge_instructions": s.discharge_instructions,
            "completed_by": completed_by, "completed_at": completed_at,
            "signed_by": signed_by, "signed_at": signed_at, "addenda": len(r.addenda)})
    header = list(rows[0]) if rows else list(_SESSION_COLUMNS)
    return header, [[cell(row[h], tz) for h in header] for row in rows]


_SESSION_COLUMNS = (
    "session_id", "session_uuid", "patient_mrn", "protocol", "series_number", "series_total",
    "chair", "status", "nurse", "provider", "weight_kg", "bag_drug",
    "bag_concentration_mg_per_ml", "bag_volume_ml", "bag_lot", "bag_expiry", "arrival_at",
    "infusion_start_at", "infusion_end_at", "discharge_at", "total_ketamine_mg",
    "total_ketamine_mg_per_kg", "max_rate_mg_per_h", "discharge_escort",
    "discharge_instructions", "completed_by", "completed_at", "signed_by", "signed_at",
    "addenda")

VITALS_COLUMNS: tuple[str, ...] = ("session_id", "at", *VITAL_FIELDS, "map_derived", "source",
                                   "alerts", "late_entry", "artifact", "artifact_reason", "uuid")


def vitals_table(records: Sequence[SessionRecord], tz: tzinfo | None) -> Table:
    rows = []
    for r in records:
        for v in r.vitals:
            values = {"session_id": v.session_id, "at": v.at,
                      **{f: getattr(v, f) for f in VITAL_FIELDS}, "map_derived": v.map_derived,
                      "source": v.source, "alerts": " ".join(v.alerts),
                      "late_entry": v.late_entry, "artifact": v.artifact,
                      "artifact_reason": v.artifact_reason, "uuid": v.uuid}
            rows.append([cell(values[c], tz) for c in VITALS_COLUMNS])
    return list(VITALS_COLUMNS), rows


def doses_table(records: Sequence[SessionRecord], tz: tzinfo | None) -> Table:
    columns = ["session_id", "at", "kind", "bolus_mg", "rate_mg_per_h", "rate_mg_per_kg_per_h",
               "weight_kg", "cumulative_mg", "reason", "acknowledged_warnings",
               *STRIKE_COLUMNS, "uuid"]
    rows = []
    for r in records:
        for d in r.doses:
            weight = d.weight_kg or r.session.weight_kg
            rate = d.rate_mg_per_h
            values = {"session_id": d.session_id, "at": d.at, "kind": d.kind.value,
                      "bolus_mg": d.bolus_mg, "rate_mg_per_h": rate,
                      "rate_mg_per_kg_per_h": None if rate is None or d.kind is DoseKind.BOLUS
                      else round(rate / weight, 4),
                      "weight_kg": weight, "cumulative_mg": round(r.running_total_mg(d.at), 3),
                      "reason": d.reason,
                      "acknowledged_warnings": " | ".join(d.acknowledged_warnings),
                      **_strike(d), "uuid": d.uuid}
            rows.append([cell(values[c], tz) for c in columns])
    return columns, rows


STRIKE_COLUMNS: tuple[str, ...] = ("entered_in_error", "entered_in_error_reason")
_STRUCK: list[tuple[str, Callable[[object], object]]] = [
    ("entered_in_error", lambda e: bool(getattr(e, "struck_reason", ""))),
    ("entered_in_error_reason", lambda e: getattr(e, "struck_reason", "") or None)]


def _strike(entry: object) -> dict[str, object]:
    """The entered-in-error flag and reason: struck rows are exported, flagged."""
    return {name: get(entry) for name, get in _STRUCK}


def _interpretation(scale: str, value: int, items: dict[str, int]) -> str | None:
    spec = SCALES.get(scale)
    if spec is None:
        return None
    try:
        return (spec.score(items=items) if items else spec.score(value=value)).interpretation
    except ScaleError:
        return None


def build_tables(records: Sequence[SessionRecord], tz: tzinfo | None = None,
                 as_of: datetime | None = None) -> dict[str, Table]:
    """Every kind, in KINDS order; tz None means the computer's local time zone."""
    adjuncts = [a for r in records for a in r.adjuncts]
    effects = [e for r in records for e in r.side_effects]
    scores = [s for r in records for s in r.scores]
    follow_ups = [f for r in records for f in r.follow_ups]
    notes = [(r, n) for r in records for n in r.notes]
    acks = [(r, a) for r in records for a in r.acknowledgements]
    return {
        "sessions": sessions_table(records, tz, as_of),
        "vitals": vitals_table(records, tz),
        "doses": doses_table(records, tz),
        "medications": _table([
            ("session_id", lambda a: a.session_id), ("at", lambda a: a.at),
            ("drug", lambda a: a.drug), ("dose", lambda a: a.dose), ("unit", lambda a: a.unit),
            ("route", lambda a: a.route), ("reason", lambda a: a.reason), *_STRUCK,
            ("uuid", lambda a: a.uuid)], adjuncts, tz),
        "side_effects": _table([
            ("session_id", lambda e: e.session_id), ("onset_at", lambda e: e.onset_at),
            ("kind", lambda e: e.kind), ("severity", lambda e: e.severity.value),
            ("action", lambda e: e.action), ("resolved_at", lambda e: e.resolved_at),
            ("note", lambda e: e.note), *_STRUCK, ("uuid", lambda e: e.uuid)], effects, tz),
        "scores": _table([
            ("session_id", lambda s: s.session_id), ("at", lambda s: s.at),
            ("scale", lambda s: s.scale), ("value", lambda s: s.value),
            ("phase", lambda s: s.phase.value),
            ("items", lambda s: json.dumps(s.items, sort_keys=True) if s.items else None),
            ("interpretation", lambda s: _interpretation(s.scale, s.value, s.items)),
            *_STRUCK, ("uuid", lambda s: s.uuid)], scores, tz),
        "follow_ups": _table([
            ("session_id", lambda f: f.session_id), ("at", lambda f: f.at),
            ("nrs", lambda f: f.nrs), ("relief_hours", lambda f: f.relief_hours),
            ("phq9", lambda f: f.phq9), ("source", lambda f: f.source),
            ("note", lambda f: f.note), *_STRUCK, ("uuid", lambda f: f.uuid)], follow_ups, tz),
        "notes": _table([
            ("session_id", lambda rn: rn[1].session_id), ("at", lambda rn: rn[1].at),
            ("author", lambda rn: rn[0].user_name(rn[1].author_id)),
            ("text", lambda rn: rn[1].text),
            ("entered_in_error", lambda rn: bool(rn[1].struck_reason)),
            ("entered_in_error_reason", lambda rn: rn[1].struck_reason or None),
            ("uuid", lambda rn: rn[1].uuid)], notes, tz),
        # allergy / formulary warnings given anyway (with the reason) and alarms (with
        # the action taken); subject_uuid is the medication, dose event or reading
        "acknowledgements": _table([
            ("session_id", lambda ra: ra[1].session_id), ("at", lambda ra: ra[1].at),
            ("kind", lambda ra: ra[1].kind), ("subject", lambda ra: ra[1].subject_table),
            ("subject_uuid", lambda ra: ra[1].subject_uuid),
            ("warning", lambda ra: ra[1].warning), ("source", lambda ra: ra[1].source),
            ("response", lambda ra: ra[1].response),
            ("by", lambda ra: ra[0].user_name(ra[1].entered_by)),
            ("uuid", lambda ra: ra[1].uuid)], acks, tz),
    }
