"""The audit log for admins: who did what, when, to which record; filtered by user,
patient (MRN), clinic-local date range and action, a page at a time; exported to CSV.
An export is itself audited (who exported what filter, how many rows)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from ketalog.domain.clock import from_iso, to_iso
from ketalog.domain.entities import Role
from ketalog.interop.csv_cells import neutralise
from ketalog.services.context import Context
from ketalog.services.errors import ServiceError, service_boundary
from ketalog.services.exports import write_audited
from ketalog.store import audit_query as q
from ketalog.store import patients as patient_rows
from ketalog.store import users as user_rows
from ketalog.store.values import as_int

PAGE_SIZE = 200
CSV_HEADER = ("id", "at_utc", "at_local", "user", "action", "table", "row_uuid", "patient_mrn",
              "reason", "old_values", "new_values")


@dataclass(frozen=True)
class AuditFilter:
    """What the admin typed: usernames and MRNs, clinic-local days (inclusive)."""

    username: str = ""
    mrn: str = ""
    since: date | None = None
    until: date | None = None
    action: str = ""

    def describe(self) -> dict[str, object]:
        return {k: v for k, v in (("user", self.username), ("mrn", self.mrn),
                                  ("from", self.since and self.since.isoformat()),
                                  ("to", self.until and self.until.isoformat()),
                                  ("action", self.action)) if v}


@dataclass(frozen=True)
class AuditLine:
    id: int
    at: datetime
    username: str
    action: str
    table: str
    row_uuid: str
    mrn: str
    reason: str
    old_values: str
    new_values: str


@dataclass(frozen=True)
class AuditPage:
    lines: list[AuditLine]
    total: int  # matching entries in all pages
    more: bool  # older entries follow this page


def _local_midnight(day: date) -> str:
    local = datetime.combine(day, time(0, 0)).astimezone()  # the clinic's time zone
    return to_iso(local.astimezone(UTC))


def _query(ctx: Context, f: AuditFilter) -> q.AuditQuery:
    user_id = patient_id = None
    if f.username.strip():
        user = user_rows.user_named(ctx.store, f.username.strip())
        if user is None:
            raise ServiceError(f"no user named {f.username.strip()}")
        user_id = user.id
    if f.mrn.strip():
        patient = patient_rows.patient_with_mrn(ctx.store, f.mrn)
        if patient is None or patient.id is None:
            raise ServiceError(f"no patient with MRN {f.mrn.strip()}")
        patient_id = patient.id
    if f.since and f.until and f.until < f.since:
        raise ServiceError(f"the date range ends ({f.until}) before it starts ({f.since})")
    return q.AuditQuery(user_id=user_id, patient_id=patient_id,
                        since=_local_midnight(f.since) if f.since else None,
                        until=_local_midnight(f.until + timedelta(days=1)) if f.until else None,
                        action=f.action.strip() or None)


def _lines(ctx: Context, rows: list[dict[str, object]]) -> list[AuditLine]:
    refs = q.patient_refs(ctx.store, [str(r["row_uuid"]) for r in rows if r["row_uuid"]])
    return [AuditLine(id=as_int(r["id"]), at=from_iso(str(r["at"])),
                      username=str(r["username"]), action=str(r["action"]),
                      table=str(r["table_name"]), row_uuid=str(r["row_uuid"]),
                      mrn=refs.get(str(r["row_uuid"]), ""), reason=str(r["reason"]),
                      old_values=str(r["old_values"] or ""),
                      new_values=str(r["new_values"] or "")) for r in rows]


@service_boundary
def search_audit(ctx: Context, f: AuditFilter, before_id: int | None = None,
                 page_size: int = PAGE_SIZE) -> AuditPage:
    """One page of matching entries, newest first; pass the last id to get the next."""
    ctx.require(Role.ADMIN, action="read the audit log")
    query = _query(ctx, f)
    rows = q.audit_page(ctx.store, query, page_size + 1, before_id)
    return AuditPage(_lines(ctx, rows[:page_size]), q.audit_count(ctx.store, query),
                     len(rows) > page_size)


@service_boundary
def audit_actions(ctx: Context) -> list[str]:
    ctx.require(Role.ADMIN, action="read the audit log")
    return q.audit_actions(ctx.store)


@service_boundary
def audit_csv(ctx: Context, f: AuditFilter) -> tuple[bytes, int]:
    """Every matching entry as CSV (UTF-8, CRLF, times in UTC and local) and its count."""
    ctx.require(Role.ADMIN, action="export the audit log")
    query = _query(ctx, f)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    count = 0
    # reasons, usernames and values are free text: neutralised against formula injection
    batch: list[dict[str, object]] = []

    def flush() -> None:
        for line in _lines(ctx, batch):
            writer.writerow([neutralise(str(v)) for v in (
                line.id, to_iso(line.at), line.at.astimezone().isoformat(), line.username,
                line.action, line.table, line.row_uuid, line.mrn, line.reason,
                line.old_values, line.new_values)])
        batch.clear()

    for row in q.iter_audit(ctx.store, query):
        batch.append(row)
        count += 1
        if len(batch) >= 500:
            flush()
    flush()
    return out.getvalue().encode("utf-8"), count


@service_boundary
def export_audit_csv(ctx: Context, f: AuditFilter, path: Path) -> int:
    """Write the filtered entries to `path` (whole or not at all), then audit the export.
    Returns the number of entries written."""
    ctx.require(Role.ADMIN, action="export the audit log")
    data, count = audit_csv(ctx, f)
    path = Path(path)
    write_audited(ctx, {path: data}, lambda w: w.event(
        "export_audit", "audit_log", "", {"filter": f.describe(), "rows": count,
                                          "file": str(path.parent.resolve() / path.name),
                                          "bytes": len(data)}))
    return count
