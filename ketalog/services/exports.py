"""Exports leave the clinic, so each one is attributed and audited (who exported what),
and a file is written whole or not at all (temporary file, then rename)."""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path

from ketalog.domain.entities import Role
from ketalog.domain.hashing import content_hash
from ketalog.reports.course_pdf import CourseReport, course_pdf
from ketalog.reports.session_pdf import SessionReport, session_pdf
from ketalog.services.context import Context
from ketalog.services.course import load_course
from ketalog.services.errors import ServiceError
from ketalog.services.record import load_record
from ketalog.services.settings import (
    clinic_address,
    clinic_logo,
    clinic_name,
    monitoring_interval_min,
    paper_size,
)
from ketalog.store.content import session_content

CLINICAL_READERS = (Role.NURSE, Role.PROVIDER, Role.ADMIN)


def write_atomically(path: Path, data: bytes) -> None:
    """A crash or full disk leaves the old file or none, never half a PDF."""
    path = Path(path)
    if not path.parent.is_dir():
        raise ServiceError(f"folder {path.parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ServiceError(f"could not write {path}: {exc.strerror or exc}") from exc


def session_report(ctx: Context, session_id: int) -> SessionReport:
    ctx.require(*CLINICAL_READERS, action="export session records")
    record = load_record(ctx.store, session_id)
    return SessionReport(record=record, clinic=clinic_name(ctx.store),
                         content_hash=content_hash(session_content(ctx.store, session_id)),
                         printed_at=ctx.clock.now(), printed_by=ctx.user.signed_name,
                         paper=paper_size(ctx.store), clinic_address=clinic_address(ctx.store),
                         clinic_logo=clinic_logo(ctx.store),
                         default_monitoring_min=monitoring_interval_min(ctx.store))


def record_export(ctx: Context, data: bytes, out: Path, *, table: str, row_uuid: str,
                  details: dict[str, object]) -> Path:
    """Write the file whole, then audit who exported what (the GUI renders the bytes off
    its thread and calls this back on it: the store connection stays on one thread)."""
    write_atomically(out, data)
    with ctx.store.write(ctx.actor) as w:
        w.event("export", table, row_uuid, {**details, "file": str(Path(out).resolve()),
                                            "bytes": len(data)})
    return Path(out)


def record_print(ctx: Context, *, table: str, row_uuid: str, details: dict[str, object],
                 printer: str, copies: int) -> None:
    with ctx.store.write(ctx.actor) as w:
        w.event("print", table, row_uuid, {**details, "printer": printer, "copies": copies})


def session_export_details(report: SessionReport) -> dict[str, object]:
    return {"format": "pdf", "kind": "session", "session_id": report.record.session.id,
            "content_hash": report.content_hash, "paper": report.paper}


def export_session_pdf(ctx: Context, session_id: int, out: Path) -> Path:
    report = session_report(ctx, session_id)
    return record_export(ctx, session_pdf(report), out, table="sessions",
                         row_uuid=report.record.session.uuid,
                         details=session_export_details(report))


def course_report(ctx: Context, patient_id: int, since: date | None = None,
                  until: date | None = None) -> CourseReport:
    ctx.require(*CLINICAL_READERS, action="export course summaries")
    if since and until and since > until:
        raise ServiceError(f"the range starts ({since}) after it ends ({until})")
    course = load_course(ctx.store, patient_id, since, until, ctx.clock.now())
    ids = [s.session.session_id for s in course.outcome.sessions]
    names: dict[int, str] = {}
    for row in ctx.store.session_listing(patient_id):
        protocol_id = row["protocol_id"]
        if row["id"] in ids and protocol_id is not None:
            protocol = ctx.store.get("protocols", int(protocol_id))  # type: ignore[call-overload]
            names[int(row["id"])] = str(protocol["name"]) if protocol else "—"  # type: ignore[call-overload]
    # The hash covers each included session's full content: a reprint of unchanged records
    # shows the same hash, any change shows a new one.
    digest = content_hash({str(i): content_hash(session_content(ctx.store, i)) for i in ids})
    return CourseReport(patient=course.patient, since=since, until=until,
                        outcome=course.outcome, clinic=clinic_name(ctx.store),
                        content_hash=digest, printed_at=ctx.clock.now(), printed_by=ctx.user.signed_name,
                        paper=paper_size(ctx.store), protocol_names=names,
                        series=course.series, mood=course.mood if course.shows_mood else None,
                        clinic_address=clinic_address(ctx.store), clinic_logo=clinic_logo(ctx.store))


def course_export_details(report: CourseReport) -> dict[str, object]:
    return {"format": "pdf", "kind": "course", "patient_mrn": report.patient.mrn,
            "since": report.since.isoformat() if report.since else None,
            "until": report.until.isoformat() if report.until else None,
            "sessions": [s.session.session_id for s in report.outcome.sessions],
            "content_hash": report.content_hash, "paper": report.paper}


def export_course_pdf(ctx: Context, patient_id: int, out: Path, since: date | None = None,
                      until: date | None = None) -> Path:
    report = course_report(ctx, patient_id, since, until)
    return record_export(ctx, course_pdf(report), out, table="patients",
                         row_uuid=report.patient.uuid, details=course_export_details(report))
