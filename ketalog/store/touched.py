"""What a write transaction touched, kept in memory beside its audit entries: the
clinic server's engine tells the other workstations from it at commit (pg_changes.py)
without reading the entries back, and the local file's engine has no one to tell."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Touched", "touched"]


@dataclass(frozen=True)
class Touched:
    """One audit entry's row, as the other workstations' screens need to know it."""

    table: str
    action: str  # insert, update, delete, or an event's name (login, export...)
    row_uuid: str
    session_id: int | None  # the session the row belongs to, where the row says
    patient_id: int | None
    by: str  # the username the entry is attributed to


def _id(value: object) -> int | None:
    text = str(value) if value is not None else ""
    return int(text) if text.isdigit() else None


def touched(table: str, action: str, row_uuid: str, row: Mapping[str, object] | None,
            by: str) -> Touched:
    """The entry for `row` (its whole values where known, else what the entry holds): a
    session's own id and patient, a patient's own id, else the row's session_id and
    patient_id columns."""
    values = row or {}
    if table == "sessions":
        session, patient = _id(values.get("id")), _id(values.get("patient_id"))
    elif table == "patients":
        session, patient = None, _id(values.get("id"))
    else:
        session, patient = _id(values.get("session_id")), _id(values.get("patient_id"))
    return Touched(table, action, row_uuid, session, patient, by)
