"""Session PDF for a typical 4-hour demo session (vitals every 5-15 minutes): the full
export path (load the record, render, nothing written) against a bare ReportLab document
with the same vitals table (plain strings, same font) and the same chart, same run."""

from __future__ import annotations

import io
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.platypus import SimpleDocTemplate, Table, TableStyle

from benchmarks.common import Figure, median
from ketalog.domain import dosing
from ketalog.domain.clock import FixedClock, from_iso
from ketalog.reports.chart import session_chart
from ketalog.reports.fonts import SANS, register_fonts
from ketalog.reports.session_pdf import session_pdf
from ketalog.services.auth import login
from ketalog.services.demo import create_demo, demo_password
from ketalog.services.exports import session_report
from ketalog.store.connection import open_store

START = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
FIELDS = ("sbp_mmhg", "dbp_mmhg", "map_mmhg", "hr_bpm", "spo2_pct", "rr_per_min",
          "etco2_mmhg", "temp_c")


def _bare(record) -> bytes:  # noqa: ANN001
    """The same chart drawing and the same vitals rows as a plain table in the same
    (embedded, Unicode) font: what any PDF of this record has to pay for."""
    register_fonts()
    rows = [["Time", *FIELDS, "Source"]] + [
        [v.at.strftime("%H:%M"), *(str(getattr(v, f) or "") for f in FIELDS), v.source]
        for v in record.vitals]
    drawing = session_chart(500, record.vitals, dosing.segments(record.doses), [], [],
                            record.vitals[0].at, record.vitals[-1].at)
    table = Table(rows, repeatRows=1)
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), SANS)]))
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4).build([drawing, table])
    return buffer.getvalue()


def run() -> list[Figure]:
    with tempfile.TemporaryDirectory() as tmp:
        clock = FixedClock(START)
        store = open_store(Path(tmp) / "demo.sqlite", clock)
        create_demo(store, clock, seed=1)
        provider = login(store, clock, "provider", demo_password("provider", 1))

        def hours(row: dict[str, object]) -> float:
            if not row["infusion_start_at"] or not row["infusion_end_at"]:
                return 0.0
            return (from_iso(str(row["infusion_end_at"]))
                    - from_iso(str(row["infusion_start_at"]))).total_seconds()

        sid = int(max(store.rows("sessions", status="signed"), key=hours)["id"])  # type: ignore[arg-type]
        ours, bare = [], []
        report = session_report(provider, sid)
        session_pdf(report)  # warm: fonts registered, modules loaded
        _bare(report.record)
        for _ in range(7):
            t0 = time.perf_counter()
            report = session_report(provider, sid)
            session_pdf(report)
            ours.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            _bare(report.record)
            bare.append(time.perf_counter() - t0)
        rows = len(report.record.vitals)
        store.close()
    ratio_ok = median(ours) <= 1.5 * median(bare)
    return [
        Figure(f"session PDF, 4 h session ({rows} vitals): ratio to bare ReportLab",
               median(ours) * 1000, "ms", median(bare) * 1000, "<= 1.5x", ratio_ok),
        Figure("session PDF: absolute median", median(ours) * 1000, "ms", None, "< 500 ms",
               median(ours) < 0.5),
    ]


if __name__ == "__main__":
    from benchmarks.common import print_table

    print_table(run())
