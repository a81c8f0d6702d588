"""The controlled-substance report: the daily reconciliation's arithmetic (hypothesis),
the PDF read back as text, the CSV tables (formula-safe), and the CLI commands."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from ketalog.cli import main
from ketalog.domain.entities import Bag, DoseKind, Role
from ketalog.domain.stock import (
    Lot,
    Movement,
    MovementKind,
    daily_reconciliation,
    lot_balances,
    session_accounts,
)
from ketalog.interop.stock_csv import safe_cell
from ketalog.services import sessions as svc
from ketalog.services import stock
from ketalog.services.auth import add_user
from ketalog.services.patients import PatientInput, create_patient
from ketalog.services.stock_export import export_stock, stock_report

T0 = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
WITNESS_PW = "witness-pass-1"


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(list(MovementKind)), st.integers(0, 24 * 20),
                          st.floats(0.5, 900).map(lambda x: round(x, 2)), st.booleans()),
                max_size=300), st.integers(0, 5), st.integers(0, 10))
def test_each_day_closes_where_the_next_opens(moves, skip, span):
    lot = Lot(1, 1, "K", 50, 10, "L1", date(2030, 1, 1))
    movements = [Movement(i, kind, T0 + timedelta(hours=h), amount, "u", lot_id=1,
                          session_id=(i % 7 if with_session and kind is not MovementKind.RECEIVE
                                      else None))
                 for i, (kind, h, amount, with_session) in enumerate(moves)]
    first = T0.date() + timedelta(days=skip)
    last = first + timedelta(days=span)
    days = daily_reconciliation(movements, {}, first, last, UTC)
    assert [d.day for d in days] == [first + timedelta(days=n) for n in range(span + 1)]
    for a, b in zip(days, days[1:], strict=False):
        assert a.closing_mg == pytest.approx(b.opening_mg, abs=1e-6)
    for d in days:
        assert d.closing_mg == pytest.approx(
            d.opening_mg + d.received_mg - d.drawn_mg + d.returned_mg
            - d.wasted_from_stock_mg + d.adjusted_mg, abs=1e-6)
    upto = [m for m in movements if m.at.date() <= last]
    assert days[-1].closing_mg == pytest.approx(lot_balances([lot], upto)[1].balance_mg, abs=1e-6)
    before = [m for m in movements if m.at.date() < first]
    assert days[0].opening_mg == pytest.approx(lot_balances([lot], before)[1].balance_mg,
                                               abs=1e-6)
    assert session_accounts([], movements) == {}


@pytest.mark.parametrize("text, expected", [
    ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"), ("+1", "'+1"), ("-2", "'-2"), ("@SUM", "'@SUM"),
    ("\tx", "'\tx"), ("Dr. Ann", "Dr. Ann"), ("", ""), (None, "")])
def test_csv_cells_are_safe_against_formulas(text, expected):
    assert safe_cell(text) == expected


@pytest.fixture
def clinic(staffed, clock):
    store, ctx = staffed
    add_user(ctx["admin"], "wendy", [Role.NURSE], WITNESS_PW, "Wendy Witness", "RN")
    safe = stock.add_location(ctx["provider"], "Safe A")
    lot = stock.receive(ctx["provider"], stock.Receipt(
        safe, "Ketamine HCl injection", 50.0, 10.0, "KX1001", date(2027, 6, 30), "=Acme",
        "INV-1", 4))
    patient = create_patient(ctx["nurse"], PatientInput("S0001", "Stock", "Sam",
                                                        date(1975, 2, 3)))
    session = svc.start_session(ctx["nurse"], svc.SessionStart(
        patient.id, 80.0, Bag("ketamine", 1.0, 500), chair="Chair 1"))
    stock.draw_for_session(ctx["nurse"], session.id, [stock.DrawLine(lot, 500.0)], 500)
    svc.record_dose(ctx["nurse"], session.id, DoseKind.START, rate_mg_per_h=60,
                    acknowledge=True)
    clock.advance(hours=2)
    svc.record_dose(ctx["nurse"], session.id, DoseKind.STOP)
    stock.record_waste(ctx["nurse"], session.id, 380.0, "drug disposal container", "wendy",
                       WITNESS_PW)
    svc.complete_session(ctx["nurse"], session.id)
    stock.count_location(ctx["nurse"], safe, "close", [stock.CountEntry(lot, 1475.0, "leak")])
    return store, ctx, session


def test_pdf_has_every_part_and_the_identifiers(clinic, clock, tmp_path):
    store, ctx, session = clinic
    day = clock.now().astimezone().date()
    result = export_stock(ctx["provider"], day, day, tmp_path / "stock.pdf")
    pages = [p.extract_text() for p in PdfReader(result.files[0]).pages]
    text = " ".join(" ".join(pages).split())  # cells wrap: compare words
    for part in ("Daily reconciliation", "Discrepancies", "Inventory at the close of",
                 "Counts in the period", "Administrations per patient", "Per-lot log"):
        assert part in text, part
    assert "STOCK, Sam" in text and "S0001" in text
    assert "Wendy Witness, RN (wendy)" in text and "Nina Nurse, RN (nurse)" in text
    assert "counted 1475.0 mg, expected 1500.0 mg" in text and "OPEN" in text
    assert "drug disposal container" in text and "=Acme invoice INV-1" in text
    assert all("page" in p and "Controlled-substance record" in p for p in pages)
    audit = store.audit_rows(action="export")
    assert audit and json.loads(audit[-1]["new_values"])["kind"] == "stock"


def test_csv_tables(clinic, clock, tmp_path):
    store, ctx, session = clinic
    day = clock.now().astimezone().date()
    result = export_stock(ctx["admin"], day, day, tmp_path / "stock.csv")
    assert [p.name for p in result.files] == ["stock.csv", "stock-reconciliation.csv",
                                              "stock-inventory.csv",
                                              "stock-administrations.csv"]
    moves = list(csv.DictReader(io.StringIO(result.files[0].read_text("utf-8"))))
    assert [m["kind"] for m in moves] == ["receive", "draw", "waste"]
    assert moves[0]["supplier"] == "'=Acme"  # defused
    assert moves[2]["witness"] == "Wendy Witness, RN (wendy)"
    assert b"\r\n" in result.files[0].read_bytes()
    (admin_row,) = csv.DictReader(io.StringIO(result.files[3].read_text("utf-8")))
    assert (admin_row["mrn"], float(admin_row["given_mg"]), float(admin_row["wasted_mg"])) == (
        "S0001", 120.0, 380.0)
    (day_row,) = csv.DictReader(io.StringIO(result.files[1].read_text("utf-8")))
    assert float(day_row["closing_mg"]) == 1500.0 and float(day_row["drawn_mg"]) == 500.0
    with pytest.raises(Exception, match="must end in"):
        export_stock(ctx["admin"], day, day, tmp_path / "stock.txt")
    with pytest.raises(Exception, match="may not export"):
        stock_report(ctx["nurse"], day, day)


def test_cli_stock_list_and_export(clinic, clock, tmp_path, capsys, monkeypatch):
    store, ctx, session = clinic
    store.close()
    db = str(store.path)
    monkeypatch.setenv("KETALOG_PASSWORD", "provider-pass-1")
    assert main(["--db", db, "--user", "provider", "stock", "list", "--json"], clock) == 0
    listing = json.loads(capsys.readouterr().out)
    (lot,) = listing["lots"]
    assert (lot["lot"], lot["balance_mg"], lot["drawn_mg"]) == ("KX1001", 1500.0, 500.0)
    assert lot["balance_containers"] == 3.0
    assert [d["kind"] for d in listing["open_discrepancies"]] == ["count_difference"]
    day = clock.now().astimezone().date().isoformat()
    out = tmp_path / "r.pdf"
    assert main(["--db", db, "--user", "provider", "export", "stock", "--from", day, "--to",
                 day, "--out", str(out)], clock) == 0
    assert out.read_bytes().startswith(b"%PDF")
    assert main(["--db", db, "--user", "provider", "export", "stock", "--from", "yesterday",
                 "--to", day, "--out", str(out)], clock) == 1
    assert "--from must be a date" in capsys.readouterr().err
    monkeypatch.setenv("KETALOG_PASSWORD", "nurse-pass-1")
    assert main(["--db", db, "--user", "nurse", "stock", "list"], clock) == 1
    assert "may not open" in capsys.readouterr().err
