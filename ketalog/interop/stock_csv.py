"""The controlled-substance report as CSV tables: the movement log (every movement with
who and the witness), the daily reconciliation, the inventory (counts and closing
balances) and the per-patient administrations. UTF-8, CRLF (RFC 4180), times with
their UTC offset. Text a spreadsheet would run as a formula (= + - @, tab, CR), or that
starts with an apostrophe, gets a leading apostrophe: these files are opened by office
staff in spreadsheets."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from ketalog.domain.stock import Lot, containers_text
from ketalog.domain.stock_reconciliation import StockReport
from ketalog.interop.csv_cells import neutralise


def safe_cell(value: object) -> str:
    """The cell as text, defused against spreadsheet formula injection by the rule every
    CSV of ketalog's follows (`interop.csv_cells.neutralise`). Numbers are written by the
    caller as numbers, so only text reaches this."""
    return neutralise("" if value is None else str(value))


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([v if isinstance(v, int | float) else safe_cell(v) for v in row])
    return buffer.getvalue().encode("utf-8")


def _iso(value: object) -> str:
    return value.astimezone().isoformat(timespec="seconds") if value is not None else ""  # type: ignore[attr-defined]


def _lot_number(lot: Lot | None) -> str:
    return lot.lot_number if lot else ""


def stock_csv_tables(report: StockReport) -> dict[str, bytes]:
    """kind -> file bytes; "movements" is the main file, the others sit beside it."""
    movements = [
        [_iso(m.at), m.kind.value, _lot_number(report.lot(m.lot_id)),
         report.lot(m.lot_id).product if report.lot(m.lot_id) else "",  # type: ignore[union-attr]
         round(m.amount_mg, 3), round(m.stock_effect_mg, 3),
         "" if m.session_id is None else m.session_id, m.user, m.witness, _iso(m.witness_at),
         m.method, m.reason, m.supplier, m.invoice,
         "" if m.containers is None else m.containers, m.resolves]
        for m in report.movements]
    days = [[d.day.isoformat(), round(d.opening_mg, 3), round(d.received_mg, 3),
             round(d.drawn_mg, 3), round(d.returned_mg, 3), round(d.wasted_from_stock_mg, 3),
             round(d.adjusted_mg, 3), round(d.closing_mg, 3), len(d.sessions),
             round(d.given_mg, 3), round(d.session_waste_mg, 3), round(d.unaccounted_mg, 3)]
            for d in report.days]
    inventory: list[list[object]] = []
    for lot in report.lots:
        b = report.balances[lot.id]
        inventory.append(["balance", _iso(None), report.until.isoformat(), lot.location,
                          lot.product, lot.strength_mg_per_ml, lot.container_ml, lot.lot_number,
                          lot.expiry.isoformat(), round(b.balance_mg, 3), "",
                          containers_text(b), "", "", ""])
    for c in report.counts:
        for line in c.lines:
            lot = report.lot(line.lot_id)
            inventory.append(["count", _iso(c.at), c.business, c.location,
                              lot.product if lot else "", lot.strength_mg_per_ml if lot else "",
                              lot.container_ml if lot else "", _lot_number(lot),
                              lot.expiry.isoformat() if lot else "", round(line.expected_mg, 3),
                              round(line.counted_mg, 3), "", c.counted_by, c.second_counter,
                              line.explanation])
    administrations = [
        [_iso(a.use.began_at), a.use.patient, a.use.mrn, a.use.session_id, "ketamine",
         "; ".join(sorted({f"{lot.lot_number} {lot.strength_mg_per_ml:g} mg/mL"
                           for m in a.draws if (lot := report.lot(m.lot_id))})),
         round(a.net_drawn_mg, 3), round(a.use.given_mg, 3), round(a.wasted_mg, 3),
         round(a.difference_mg, 3), a.use.nurse,
         "; ".join(w.witness for w in a.wastes)]
        for a in report.administrations]
    return {
        "movements": _table(["at", "kind", "lot", "product", "amount_mg", "stock_effect_mg",
                             "session_id", "by", "witness", "witnessed_at", "method", "reason",
                             "supplier", "invoice", "containers", "resolves"], movements),
        "reconciliation": _table(["day", "opening_mg", "received_mg", "drawn_mg", "returned_mg",
                                  "wasted_from_stock_mg", "adjusted_mg", "closing_mg",
                                  "sessions", "given_mg", "session_waste_mg",
                                  "unaccounted_mg"], days),
        "inventory": _table(["row", "at", "business_or_date", "location", "product",
                             "strength_mg_per_ml", "container_ml", "lot", "expiry",
                             "record_mg", "counted_mg", "containers", "counted_by",
                             "second_counter", "explanation"], inventory),
        "administrations": _table(["began", "patient", "mrn", "session_id", "drug", "lots",
                                   "drawn_mg", "given_mg", "wasted_mg", "unaccounted_mg",
                                   "administered_by", "waste_witness"], administrations),
    }
