"""A printable document as one flow for every front end: gather (permission-checked, on
the caller's thread, which owns the store connection), render (pure: ReportLab on data
already gathered, safe on a worker thread), then save or print (written whole and
audited, back on the caller's thread). The session, course and controlled-substance
PDFs, exported or printed from the GUI, all go through it; every step raises
ServiceError only (a store failure leaves as StoreFailed with the store's wording)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ketalog.services.context import Context
from ketalog.services.errors import service_boundary

# services.exports loads the report modules, and with them ReportLab: each function below
# imports it on first use, so a GUI that only names a Document starts without ReportLab.


@dataclass(frozen=True)
class Document:
    """What was gathered for one PDF and how its export is recorded."""

    title: str  # for the user: "session PDF", "course summary", ...
    filename: str  # a suggested file name
    render: Callable[[], bytes]  # touches no store: run it on any thread
    table: str  # the audited row the document is about
    row_uuid: str
    details: dict[str, object]  # the export entry's details (kind, hash, audit head...)

    @service_boundary
    def save(self, ctx: Context, data: bytes, out: Path) -> Path:
        """Write the rendered bytes whole and audit the export (nothing left on failure)."""
        from ketalog.services.exports import record_export

        return record_export(ctx, data, out, table=self.table, row_uuid=self.row_uuid,
                             details=self.details)

    @service_boundary
    def printed(self, ctx: Context, printer: str, copies: int) -> None:
        """Audit that the rendered bytes went to `printer`."""
        from ketalog.services.exports import record_print

        record_print(ctx, table=self.table, row_uuid=self.row_uuid, details=self.details,
                     printer=printer, copies=copies)


@service_boundary
def session_document(ctx: Context, session_id: int) -> Document:
    from ketalog.reports.session_pdf import session_pdf
    from ketalog.services.exports import session_export_details, session_report

    report = session_report(ctx, session_id)
    return Document("session PDF", f"session-{session_id}.pdf", lambda: session_pdf(report),
                    "sessions", report.record.session.uuid, session_export_details(report))


@service_boundary
def course_document(ctx: Context, patient_id: int, since: date | None = None,
                    until: date | None = None) -> Document:
    from ketalog.reports.course_pdf import course_pdf
    from ketalog.services.exports import course_export_details, course_report

    report = course_report(ctx, patient_id, since, until)
    return Document("course summary", f"course-{report.patient.mrn}.pdf",
                    lambda: course_pdf(report), "patients", report.patient.uuid,
                    course_export_details(report))


@service_boundary
def stock_document(ctx: Context, since: date, until: date) -> Document:
    from ketalog.reports.stock_pdf import stock_pdf
    from ketalog.services.stock_export import export_details, stock_report

    report = stock_report(ctx, since, until)
    return Document("controlled-substance record", f"stock-{since}-{until}.pdf",
                    lambda: stock_pdf(report), "stock_movements", "",
                    export_details(report, "pdf"))
