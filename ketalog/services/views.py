"""Reads are audited too (HIPAA 164.312(b), audit controls): opening a patient's record,
a session or a course view writes a "view" entry naming who looked at what; exports and
prints write their own entries. A view entry that cannot be written (the database busy)
never keeps a nurse from the record: it is logged instead."""

from __future__ import annotations

import logging

from ketalog.services.context import Context
from ketalog.services.errors import service_boundary
from ketalog.store import patients as patient_rows
from ketalog.store.errors import StoreError
from ketalog.store.row_refs import row_ref

VIEW_ACTION = "view"
log = logging.getLogger(__name__)


def _record(ctx: Context, table: str, row_id: int, what: str) -> None:
    ref = row_ref(ctx.store, table, row_id)
    if ref is None:
        return
    details: dict[str, object] = {"what": what, "id": row_id}
    patient = patient_rows.patient(ctx.store, ref.patient_id) \
        if ref.patient_id is not None else None
    if patient is not None:
        details["patient_mrn"] = patient.mrn
    try:
        with ctx.store.write(ctx.actor) as w:
            w.event(VIEW_ACTION, table, ref.uuid, details)
    except StoreError as exc:
        log.warning("could not audit %s of %s %s by %s: %s", what, table, row_id,
                    ctx.user.username, exc)


@service_boundary
def view_session(ctx: Context, session_id: int) -> None:
    _record(ctx, "sessions", session_id, "session")


@service_boundary
def view_patient(ctx: Context, patient_id: int, what: str = "patient record") -> None:
    _record(ctx, "patients", patient_id, what)
