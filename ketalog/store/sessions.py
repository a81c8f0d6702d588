"""Infusion sessions in the store: the one module that names their table and orders them.
Reads return domain `InfusionSession`s (a listing adds the patient's identifiers); writes
go through the caller's audited `Writer`, so every change keeps its audit entry."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from ketalog.domain.clock import from_iso, to_iso
from ketalog.domain.entities import (
    AdjunctMedication,
    DoseEvent,
    InfusionSession,
    Note,
    Score,
    SideEffect,
    VitalsReading,
    patient_name,
)
from ketalog.store.records import (
    Row,
    adjunct_from_row,
    dose_from_row,
    note_from_row,
    score_from_row,
    session_from_row,
    side_effect_from_row,
    vitals_from_row,
)
from ketalog.store.schema import SESSION_CHILD_TABLES
from ketalog.store.store import Store, Writer
from ketalog.store.values import as_int

TABLE = "sessions"
# When a session began: its infusion's start, else when it was opened. The Today board's
# index (idx_sessions_began) is on this very expression, so it must stay identical.
BEGAN = "coalesce(s.infusion_start_at, s.created_at)"
# The rows under a session, each table in its time order (ties by id).
CHILD_ORDER = {"side_effects": "onset_at, id"}
DEFAULT_CHILD_ORDER = "at, id"


@dataclass(frozen=True)
class PatientIdentifiers:
    """The identifiers every list shows beside a record: name, MRN and date of birth."""

    mrn: str
    family_name: str
    given_name: str
    birth_date: date

    @property
    def name(self) -> str:
        """'FAMILY, Given' (domain.entities.patient_name)."""
        return patient_name(self.family_name, self.given_name)


@dataclass(frozen=True)
class SessionListing:
    """A session with its patient's identifiers and the moment it was opened."""

    session: InfusionSession
    patient: PatientIdentifiers
    created_at: datetime

    @property
    def session_id(self) -> int:
        return as_int(self.session.id)

    @property
    def began_at(self) -> datetime:
        """The infusion's start, else when the session was opened (the listing's order)."""
        return self.session.infusion_start_at or self.created_at


def patient_identifiers(row: Row) -> PatientIdentifiers:
    return PatientIdentifiers(str(row["mrn"]), str(row["family_name"]),
                              str(row["given_name"]), date.fromisoformat(str(row["birth_date"])))


def get(store: Store, session_id: int) -> InfusionSession | None:
    """One session, or None when there is no row with that id."""
    row = store.get(TABLE, session_id)
    return None if row is None else session_from_row(row)


def listing(store: Store, patient_id: int | None = None, since: datetime | None = None,
            statuses: Sequence[str] | None = None) -> list[SessionListing]:
    """Sessions with their patient's identifiers, oldest first (by when they began, ties
    by id); `since` keeps those begun at or after it, `statuses` those in one of them."""
    sql = ("SELECT s.*, p.mrn, p.family_name, p.given_name, p.birth_date "
           "FROM sessions s JOIN patients p ON p.id = s.patient_id")
    clauses: list[str] = []
    params: list[object] = []
    if patient_id is not None:
        clauses.append("s.patient_id = ?")
        params.append(patient_id)
    if since is not None:
        clauses.append(f"{BEGAN} >= ?")
        params.append(to_iso(since))
    if statuses:
        clauses.append(f"s.status IN ({', '.join('?' * len(statuses))})")
        params.extend(statuses)
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    sql += f" ORDER BY {BEGAN}, s.id"
    cursor = store.conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, values, strict=True)) for values in cursor]
    return [SessionListing(session_from_row(r), patient_identifiers(r),
                           from_iso(str(r["created_at"]))) for r in rows]


def signed_ids(store: Store) -> list[int]:
    """Ids of the signed sessions, in id order (what verify re-hashes)."""
    return [as_int(r[0]) for r in store.conn.execute(
        "SELECT id FROM sessions WHERE status = 'signed' ORDER BY id")]


def count_in_series(store: Store, series_id: int | None) -> int:
    """Sessions started in a treatment series."""
    return store.count(TABLE, series_id=series_id)


def count_on_protocol(store: Store, protocol_id: int, patient_id: int | None = None) -> int:
    """Sessions held on a protocol (by one patient, when given)."""
    if patient_id is None:
        return store.count(TABLE, protocol_id=protocol_id)
    return store.count(TABLE, patient_id=patient_id, protocol_id=protocol_id)


def child_rows(store: Store, session_id: int, skip: Sequence[str] = ()
               ) -> dict[str, list[Row]]:
    """Every row under a session as stored, table by table, each in its time order: what
    a signature covers (store/content.py)."""
    return {t: store.rows(t, order_by=CHILD_ORDER.get(t, DEFAULT_CHILD_ORDER),
                          session_id=session_id)
            for t in SESSION_CHILD_TABLES if t not in skip}


@dataclass(frozen=True)
class SessionChildren:
    """The entries under a session, each kind in its time order (ties by id)."""

    vitals: tuple[VitalsReading, ...]
    doses: tuple[DoseEvent, ...]
    adjuncts: tuple[AdjunctMedication, ...]
    scores: tuple[Score, ...]
    side_effects: tuple[SideEffect, ...]
    notes: tuple[Note, ...]


def children(store: Store, session_id: int, with_vitals: bool = True) -> SessionChildren:
    """The session's entries as domain objects; with_vitals=False leaves the vitals out
    (the session window pages them)."""
    rows = child_rows(store, session_id, skip=() if with_vitals else ("vitals",))
    return SessionChildren(
        vitals=tuple(vitals_from_row(r) for r in rows.get("vitals", ())),
        doses=tuple(dose_from_row(r) for r in rows["dose_events"]),
        adjuncts=tuple(adjunct_from_row(r) for r in rows["adjunct_medications"]),
        scores=tuple(score_from_row(r) for r in rows["scores"]),
        side_effects=tuple(side_effect_from_row(r) for r in rows["side_effects"]),
        notes=tuple(note_from_row(r) for r in rows["notes"]))


def insert(w: Writer, row: Mapping[str, object]) -> int:
    """Store one checked session row (audited by the writer); returns its id."""
    return w.insert(TABLE, row)


def lock(w: Writer, session_id: int) -> None:
    """Hold the session row until the write commits: nothing is added to, changed in or
    removed from the session by another connection meanwhile (its content is about to
    be hashed and signed)."""
    w.store.engine.lock_row(TABLE, session_id)


def update(w: Writer, session_id: int, changes: Mapping[str, object],
           reason: str = "", expected: Mapping[str, object] | None = None) -> None:
    """Change some columns (only what differs is written and audited, with the reason);
    refused when the row no longer holds `expected` (edit_conflicts.py)."""
    w.update(TABLE, session_id, changes, reason=reason, expected=expected)
