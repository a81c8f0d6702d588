"""Exports leave the clinic, so each one is attributed and audited (who exported what),
and a file is written whole or not at all (temporary file, then rename)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ketalog.domain.entities import Role
from ketalog.domain.hashing import content_hash
from ketalog.reports.session_pdf import SessionReport, session_pdf
from ketalog.services.context import Context
from ketalog.services.errors import ServiceError
from ketalog.services.record import load_record
from ketalog.services.settings import clinic_name
from ketalog.store.content import session_content

PAPER_SETTING = "paper_size"
PAPERS = ("A4", "Letter")
CLINICAL_READERS = (Role.NURSE, Role.PROVIDER, Role.ADMIN)


def paper_size(ctx: Context) -> str:
    value = ctx.store.setting(PAPER_SETTING)
    return str(value) if value in PAPERS else "A4"


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
    user = ctx.user
    who = f"{user.display_name}{', ' + user.credentials if user.credentials else ''}"
    return SessionReport(record=record, clinic=clinic_name(ctx.store),
                         content_hash=content_hash(session_content(ctx.store, session_id)),
                         printed_at=ctx.clock.now(), printed_by=who, paper=paper_size(ctx))


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
