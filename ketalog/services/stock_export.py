"""The controlled-substance report for a date range (clinic days, inclusive), as PDF or
CSV, written whole and audited like every export. Admins and providers only: it lists
patients and every milligram."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from ketalog.domain.clock import to_iso
from ketalog.domain.hashing import content_hash
from ketalog.domain.stock import lot_balances
from ketalog.domain.stock_reconciliation import StockReport, daily_reconciliation, local_day
from ketalog.services import stock
from ketalog.services.anchors import current_head
from ketalog.services.context import Context
from ketalog.services.errors import ServiceError, service_boundary
from ketalog.services.exports import head_details, record_export
from ketalog.services.settings import clinic_name, paper_size

MAX_DAYS = 3 * 366


@service_boundary
def stock_report(ctx: Context, since: date, until: date) -> StockReport:
    ctx.require(*stock.RESOLVERS, action="export the controlled-substance record")
    if until < since:
        raise ServiceError("the report's last day is before its first")
    if (until - since).days > MAX_DAYS:
        raise ServiceError(f"a report covers at most {MAX_DAYS} days; split the range")
    now = ctx.clock.now()
    data = stock.gather(ctx.store, now)
    tz = now.astimezone().tzinfo
    end = datetime.combine(until + timedelta(days=1), time(0), tzinfo=tz)
    in_range = [m for m in data.movements if since <= local_day(m.at, tz) <= until]
    upto = [m for m in data.movements if m.at < end]
    accounts = data.picture.accounts
    days = daily_reconciliation(upto, accounts, since, until, tz)
    administrations = [a for d in days for a in d.sessions]
    administrations += [a for a in accounts.values() if not a.draws and a.use.given_mg > 0
                        and a.use.began_at is not None
                        and since <= local_day(a.use.began_at, tz) <= until]
    counts = [c for c in data.counts if since <= local_day(c.at, tz) <= until]
    hashed = {"movements": [[m.id, m.kind.value, m.lot_id, m.session_id, to_iso(m.at),
                             m.amount_mg, m.user, m.witness] for m in in_range],
              "counts": [[c.id, [[x.id, x.counted_mg] for x in c.lines]] for c in counts],
              "since": since.isoformat(), "until": until.isoformat()}
    return StockReport(
        clinic=clinic_name(ctx), since=since, until=until, printed_at=now,
        printed_by=ctx.user.signed_name, lots=data.lots,
        balances=lot_balances(data.lots, upto), movements=in_range, days=days,
        administrations=sorted(administrations, key=lambda a: (
            a.use.began_at or now, a.use.session_id)),
        counts=counts, discrepancies=data.picture.discrepancies,
        tolerance_mg=stock.waste_tolerance_mg(ctx.store), content_hash=content_hash(hashed),
        paper=paper_size(ctx), audit_head=current_head(ctx.store))


@service_boundary
def export_details(report: StockReport, fmt: str) -> dict[str, object]:
    return {"format": fmt, "kind": "stock", "since": report.since.isoformat(),
            "until": report.until.isoformat(), "content_hash": report.content_hash,
            **head_details(report.audit_head)}


@service_boundary
def save_pdf(ctx: Context, report: StockReport, data: bytes, out: Path) -> Path:
    """Write the rendered PDF whole and audit it (the GUI renders off its thread)."""
    return record_export(ctx, data, out, table="stock_movements", row_uuid="",
                         details=export_details(report, "pdf"))


@dataclass(frozen=True)
class StockExport:
    files: list[Path]
    report: StockReport


@service_boundary
def export_stock(ctx: Context, since: date, until: date, out: Path) -> StockExport:
    """FILE.pdf: the whole report. FILE.csv: the movement log, with the reconciliation,
    inventory and administrations beside it (FILE-reconciliation.csv, ...)."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".pdf", ".csv"):
        raise ServiceError("the output file must end in .pdf or .csv")
    report = stock_report(ctx, since, until)
    if suffix == ".pdf":
        from ketalog.reports.stock_pdf import stock_pdf

        return StockExport([save_pdf(ctx, report, stock_pdf(report), out)], report)
    details = export_details(report, "csv")
    from ketalog.interop.stock_csv import stock_csv_tables

    files = []
    for kind, data in stock_csv_tables(report).items():
        path = out if kind == "movements" else out.with_name(f"{out.stem}-{kind}.csv")
        files.append(record_export(ctx, data, path, table="stock_movements", row_uuid="",
                                   details={**details, "table": kind}))
    return StockExport(files, report)
