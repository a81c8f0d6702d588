"""Exports leave the clinic, so each one is attributed and audited (who exported what),
and a file is written whole or not at all. The order is: written under a hidden
temporary name (owner-only), the audit entry committed, then renamed into place, so no
export is ever visible without its audit entry: when the audit fails (the database is
busy, the disk full) the temporary file is removed and nothing is left behind."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

from ketalog.domain.audit_head import AuditHead
from ketalog.domain.entities import Role
from ketalog.domain.hashing import content_hash
from ketalog.reports.course_pdf import CourseReport, course_pdf
from ketalog.reports.session_pdf import SessionReport, session_pdf
from ketalog.services.anchors import current_head, write_anchor
from ketalog.services.context import Context
from ketalog.services.course import load_course
from ketalog.services.errors import ServiceError, service_boundary
from ketalog.services.record import load_record
from ketalog.services.settings import (
    clinic_address,
    clinic_logo,
    clinic_name,
    monitoring_interval_min,
    paper_size,
)
from ketalog.store import protocols as protocol_rows
from ketalog.store import sessions as sessions_store
from ketalog.store.content import session_content
from ketalog.store.errors import StoreError
from ketalog.store.store import Writer

CLINICAL_READERS = (Role.NURSE, Role.PROVIDER, Role.ADMIN)


def _stage(path: Path, data: bytes) -> Path:
    """`data` in a hidden owner-only file beside `path` (mkstemp makes it 0600)."""
    path = Path(path)
    if not path.parent.is_dir():
        raise ServiceError(f"folder {path.parent} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    except OSError as exc:
        raise ServiceError(f"could not write {path}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ServiceError(f"could not write {path}: {exc.strerror or exc}") from exc
    return Path(tmp)


@service_boundary
def write_atomically(path: Path, data: bytes) -> None:
    """A crash or full disk leaves the old file or none, never half a PDF."""
    tmp = _stage(path, data)
    try:
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ServiceError(f"could not write {path}: {exc.strerror or exc}") from exc


@service_boundary
def write_audited(ctx: Context, files: dict[Path, bytes],
                  audit: Callable[[Writer], None]) -> None:
    """Stage every file, commit `audit` (one transaction), then rename them into place.
    A failed audit removes the staged files and raises; nothing is visible."""
    staged: dict[Path, Path] = {}
    try:
        for path, data in files.items():
            staged[Path(path)] = _stage(path, data)
        with ctx.store.write(ctx.actor) as w:
            audit(w)
    except BaseException:
        for tmp in staged.values():
            tmp.unlink(missing_ok=True)
        raise
    try:
        for path, tmp in staged.items():
            os.replace(tmp, path)
    except OSError as exc:
        for tmp in staged.values():
            tmp.unlink(missing_ok=True)
        with contextlib.suppress(StoreError):
            with ctx.store.write(ctx.actor) as w:
                w.event("export_failed", details={"files": [str(p) for p in staged],
                                                  "error": str(exc)})
        raise ServiceError(f"could not write {exc.filename or ''}: {exc.strerror or exc}") from exc
    write_anchor(ctx.store, "export")


@service_boundary
def session_report(ctx: Context, session_id: int) -> SessionReport:
    ctx.require(*CLINICAL_READERS, action="export session records")
    record = load_record(ctx, session_id)
    return SessionReport(record=record, clinic=clinic_name(ctx),
                         content_hash=content_hash(session_content(ctx.store, session_id)),
                         printed_at=ctx.clock.now(), printed_by=ctx.user.signed_name,
                         paper=paper_size(ctx), clinic_address=clinic_address(ctx),
                         clinic_logo=clinic_logo(ctx),
                         default_monitoring_min=monitoring_interval_min(ctx),
                         audit_head=current_head(ctx.store))


@service_boundary
def record_export(ctx: Context, data: bytes, out: Path, *, table: str, row_uuid: str,
                  details: dict[str, object]) -> Path:
    """Write the file whole, then audit who exported what (the GUI renders the bytes off
    its thread and calls this back on it: the store connection stays on one thread)."""
    out = Path(out)
    file = str(out.parent.resolve() / out.name)
    write_audited(ctx, {out: data}, lambda w: w.event(
        "export", table, row_uuid, {**details, "file": file, "bytes": len(data)}))
    return out


@service_boundary
def record_print(ctx: Context, *, table: str, row_uuid: str, details: dict[str, object],
                 printer: str, copies: int) -> None:
    with ctx.store.write(ctx.actor) as w:
        w.event("print", table, row_uuid, {**details, "printer": printer, "copies": copies})
    write_anchor(ctx.store, "print")


@service_boundary
def session_export_details(report: SessionReport) -> dict[str, object]:
    return {"format": "pdf", "kind": "session", "session_id": report.record.session.id,
            "content_hash": report.content_hash, "paper": report.paper,
            **head_details(report.audit_head)}


@service_boundary
def head_details(head: AuditHead | None) -> dict[str, object]:
    """The head the document carries, in its export entry (so the log says which head
    each printed page shows)."""
    return {} if head is None else {"audit_head": [head.entry, head.hash]}


@service_boundary
def export_session_pdf(ctx: Context, session_id: int, out: Path) -> Path:
    report = session_report(ctx, session_id)
    return record_export(ctx, session_pdf(report), out, table="sessions",
                         row_uuid=report.record.session.uuid,
                         details=session_export_details(report))


@service_boundary
def course_report(ctx: Context, patient_id: int, since: date | None = None,
                  until: date | None = None) -> CourseReport:
    ctx.require(*CLINICAL_READERS, action="export course summaries")
    if since and until and since > until:
        raise ServiceError(f"the range starts ({since}) after it ends ({until})")
    course = load_course(ctx, patient_id, since, until, ctx.clock.now())
    ids = [s.session.session_id for s in course.outcome.sessions]
    names: dict[int, str] = {}
    for listed in sessions_store.listing(ctx.store, patient_id):
        protocol_id = listed.session.protocol_id
        if listed.session_id in ids and protocol_id is not None:
            protocol = protocol_rows.protocol(ctx.store, protocol_id)
            names[listed.session_id] = protocol.name if protocol else "—"
    # The hash covers each included session's full content: a reprint of unchanged records
    # shows the same hash, any change shows a new one.
    digest = content_hash({str(i): content_hash(session_content(ctx.store, i)) for i in ids})
    return CourseReport(patient=course.patient, since=since, until=until,
                        outcome=course.outcome, clinic=clinic_name(ctx),
                        content_hash=digest, printed_at=ctx.clock.now(), printed_by=ctx.user.signed_name,
                        paper=paper_size(ctx), protocol_names=names,
                        series=course.series, mood=course.mood if course.shows_mood else None,
                        clinic_address=clinic_address(ctx), clinic_logo=clinic_logo(ctx),
                        audit_head=current_head(ctx.store))


@service_boundary
def course_export_details(report: CourseReport) -> dict[str, object]:
    return {"format": "pdf", "kind": "course", "patient_mrn": report.patient.mrn,
            "since": report.since.isoformat() if report.since else None,
            "until": report.until.isoformat() if report.until else None,
            "sessions": [s.session.session_id for s in report.outcome.sessions],
            "content_hash": report.content_hash, "paper": report.paper,
            **head_details(report.audit_head)}


@service_boundary
def export_course_pdf(ctx: Context, patient_id: int, out: Path, since: date | None = None,
                      until: date | None = None) -> Path:
    report = course_report(ctx, patient_id, since, until)
    return record_export(ctx, course_pdf(report), out, table="patients",
                         row_uuid=report.patient.uuid, details=course_export_details(report))
