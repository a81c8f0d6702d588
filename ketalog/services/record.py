"""Load a whole session record (domain.record.SessionRecord) from the store: the session
screen and the PDF read the same object, so both always agree."""

from __future__ import annotations

from ketalog.domain.allergies import merged
from ketalog.domain.record import SessionRecord
from ketalog.services.auth import user_by_id
from ketalog.services.context import RECORD_READERS, Context
from ketalog.services.errors import ServiceError, service_boundary
from ketalog.store import acknowledgements as acknowledgements_store
from ketalog.store import allergies as allergy_rows
from ketalog.store import follow_ups as follow_ups_store
from ketalog.store import patients as patient_rows
from ketalog.store import protocols as protocol_rows
from ketalog.store import records
from ketalog.store import signatures as signatures_store


@service_boundary
def load_record(ctx: Context, session_id: int, with_vitals: bool = True) -> SessionRecord:
    """with_vitals=False leaves vitals empty for screens that page them (vitals_series)."""
    ctx.require(*RECORD_READERS, action="read session records")
    store = ctx.store
    row = store.get("sessions", session_id)
    if row is None:
        raise ServiceError(f"no session with id {session_id}")
    session = records.session_from_row(row)
    patient = patient_rows.patient(store, session.patient_id)
    assert patient is not None  # foreign key
    protocol = protocol_rows.protocol(store, session.protocol_id) if session.protocol_id else None
    children = store.session_children(session_id, skip=() if with_vitals else ("vitals",))
    signatures = tuple(signatures_store.of_session(store, session_id))
    addenda = tuple(signatures_store.addenda_of_session(store, session_id))
    notes = tuple(records.note_from_row(r) for r in children["notes"])
    acknowledgements = tuple(acknowledgements_store.of_session(store, session_id))
    allergies = allergy_rows.active_of_patient(store, session.patient_id)
    user_ids = {session.nurse_id, session.provider_id, *(s.user_id for s in signatures),
                *(a.author_id for a in addenda), *(n.author_id for n in notes),
                *(a.entered_by for a in acknowledgements)}
    users = {uid: u for uid in user_ids if uid is not None
             for u in [user_by_id(store, uid)] if u is not None}
    return SessionRecord(
        session=session, patient=patient,
        protocol=protocol,
        vitals=tuple(records.vitals_from_row(r) for r in children.get("vitals", ())),
        doses=tuple(records.dose_from_row(r) for r in children["dose_events"]),
        adjuncts=tuple(records.adjunct_from_row(r) for r in children["adjunct_medications"]),
        side_effects=tuple(records.side_effect_from_row(r) for r in children["side_effects"]),
        scores=tuple(records.score_from_row(r) for r in children["scores"]),
        notes=notes, signatures=signatures, addenda=addenda,
        follow_ups=tuple(follow_ups_store.of_session(store, session_id)),
        users=users, acknowledgements=acknowledgements,
        allergies=tuple(merged(allergies, patient.allergies)),
        series=(records.series_from_row(series_row) if session.series_id is not None
                and (series_row := store.get("treatment_series", session.series_id))
                else None))


__all__ = ["SessionRecord", "load_record"]
