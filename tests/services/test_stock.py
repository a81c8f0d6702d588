"""The controlled-substance record through the services, on a real sqlite file: receive,
draw for a bag, waste with a witness, counts, resolutions, and the triggers behind them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ketalog.domain.entities import Bag, DoseKind, Role
from ketalog.domain.errors import PlausibilityError
from ketalog.domain.stock import DiscrepancyKind, MovementKind
from ketalog.services import sessions as svc
from ketalog.services import stock
from ketalog.services.auth import add_user, login
from ketalog.services.errors import (
    AccountLocked,
    InvalidState,
    LoginFailed,
    PermissionDenied,
)
from ketalog.services.patients import PatientInput, create_patient
from ketalog.store import stock as stock_db
from ketalog.store.errors import RecordLocked
from ketalog.store.verify import verify_store
from tests.readiness import ACK_READINESS

pytestmark = pytest.mark.both_engines

WITNESS_PW = "witness-pass-1"


@pytest.fixture
def clinic(staffed, clock):
    store, ctx = staffed
    add_user(ctx["admin"], "wendy", [Role.NURSE], WITNESS_PW, "Wendy Witness", "RN")
    ctx["witness"] = login(store, clock, "wendy", WITNESS_PW)
    safe = stock.add_location(ctx["provider"], "Safe A")
    lot = stock.receive(ctx["provider"], stock.Receipt(
        safe, "Ketamine HCl injection", 50.0, 10.0, "KX1001", date(2027, 6, 30),
        "Acme Pharma", "INV-77", 4))
    patient = create_patient(ctx["nurse"], PatientInput("S0001", "Stock", "Sam",
                                                        date(1975, 2, 3), "male"))
    session = svc.start_session(ctx["nurse"], svc.SessionStart(
        patient.id, 80.0, Bag("ketamine", 1.0, 500), chair="Chair 1"))
    return store, ctx, safe, lot, session


def run_infusion(ctx, clock, session_id: int, mg_per_h: float = 60.0, hours: float = 2.0) -> None:
    svc.record_dose(ctx["nurse"], session_id, DoseKind.START, rate_mg_per_h=mg_per_h,
                    acknowledge=True)
    clock.advance(hours=hours)
    svc.record_dose(ctx["nurse"], session_id, DoseKind.STOP)


def test_receive_is_for_admins_and_providers_only(clinic):
    store, ctx, safe, lot, _ = clinic
    with pytest.raises(PermissionDenied):
        stock.receive(ctx["nurse"], stock.Receipt(safe, "Ketamine", 50, 10, "N1",
                                                  date(2027, 1, 1), "S", "I", 1))
    assert stock.balance_of(store, lot) == 2000.0  # 4 x 10 mL x 50 mg/mL
    with pytest.raises(PlausibilityError, match="already expired"):
        stock.receive(ctx["admin"], stock.Receipt(safe, "Ketamine", 50, 10, "OLD",
                                                  date(2020, 1, 1), "S", "I", 1))
    again = stock.receive(ctx["admin"], stock.Receipt(
        safe, "Ketamine HCl injection", 50.0, 10.0, "KX1001", date(2027, 6, 30), "Acme",
        "INV-78", 2))
    assert again == lot and stock.balance_of(store, lot) == 3000.0
    audit = store.audit_rows(table_name="stock_movements")
    assert len(audit) == 2 and {a["username"] for a in audit} == {"provider", "admin"}


def test_draw_sets_the_bag_from_the_record(clinic, clock):
    store, ctx, safe, lot, session = clinic
    conc = stock.draw_for_session(ctx["nurse"], session.id, [stock.DrawLine(lot, 250.0)],
                                  bag_volume_ml=250.0)
    assert conc == 1.0
    bag = svc.get_session(store, session.id).bag
    assert (bag.concentration_mg_per_ml, bag.volume_ml, bag.lot) == (1.0, 250.0, "KX1001")
    assert bag.expiry == date(2027, 6, 30)
    assert stock.balance_of(store, lot) == 1750.0
    with pytest.raises(PlausibilityError, match="holds 1750.0 mg"):
        stock.draw_for_session(ctx["nurse"], session.id, [stock.DrawLine(lot, 5000.0)], 500)
    svc.record_dose(ctx["nurse"], session.id, DoseKind.START, rate_mg_per_h=40,
                    acknowledge=True)
    with pytest.raises(InvalidState, match="bag is in use"):
        stock.draw_for_session(ctx["nurse"], session.id, [stock.DrawLine(lot, 10.0)], 250)


def test_expired_or_recalled_lot_cannot_be_drawn(clinic, clock):
    store, ctx, safe, lot, session = clinic
    short = stock.receive(ctx["provider"], stock.Receipt(
        safe, "Ketamine HCl injection", 10.0, 20.0, "SHORT1", clock.now().date(), "Acme",
        "INV-9", 5))
    clock.advance(days=1)  # the day after its expiry date
    with pytest.raises(PlausibilityError, match="SHORT1 expired on"):
        stock.draw_for_session(ctx["nurse"], session.id, [stock.DrawLine(short, 100.0)], 100)
    assert stock.balance_of(store, short) == 1000.0  # nothing moved
    assert short not in [lot.id for lot, _ in stock.drawable_lots(ctx["nurse"])]
    expired = stock.board(ctx["provider"]).open_discrepancies
    assert [d.kind for d in expired] == [DiscrepancyKind.EXPIRED_ON_HAND]
    stock.recall_lot(ctx["provider"], lot, "manufacturer notice 2026-14")
    with pytest.raises(PlausibilityError, match="recalled"):
        stock.draw_for_session(ctx["nurse"], session.id, [stock.DrawLine(lot, 100.0)], 100)


def test_waste_with_witness_balances_the_session(clinic, clock):
    store, ctx, safe, lot, session = clinic
    stock.draw_for_session(ctx["nurse"], session.id, [stock.DrawLine(lot, 500.0)], 500)
    run_infusion(ctx, clock, session.id, 60.0, 2.0)  # 120 mg given
    plan = stock.waste_plan(ctx["nurse"], session.id)
    assert plan.given_mg == pytest.approx(120.0) and plan.expected_waste_mg == pytest.approx(380)
    waste_id = stock.record_waste(ctx["nurse"], session.id, 380.0, "drug disposal container",
                                  "wendy", WITNESS_PW)
    (m,) = [m for m in stock_db.session_movements(store, session.id)
            if m.kind is MovementKind.WASTE]
    assert m.id == waste_id and "wendy" in m.witness and "nurse" in m.user
    assert m.witness_at == clock.now()
    svc.complete_session(ctx["nurse"], session.id, acknowledged=ACK_READINESS)
    assert stock.board(ctx["provider"]).open_discrepancies == []
    with pytest.raises(InvalidState, match="already recorded"):
        stock.record_waste(ctx["nurse"], session.id, 1.0, "sink", "wendy", WITNESS_PW)
    assert verify_store(store) == []


def test_witness_cannot_be_the_user_wasting(clinic, clock, driver):
    store, ctx, safe, lot, session = clinic
    stock.draw_for_session(ctx["nurse"], session.id, [stock.DrawLine(lot, 500.0)], 500)
    run_infusion(ctx, clock, session.id)
    with pytest.raises(PlausibilityError, match="another user"):
        stock.record_waste(ctx["nurse"], session.id, 380.0, "sink", "nurse", "nurse-pass-1")
    with pytest.raises(PlausibilityError, match="another user"):
        stock.record_waste(ctx["nurse"], session.id, 380.0, "sink", " NURSE ", "nurse-pass-1")
    # and not even by raw SQL: the table refuses a witness who is the user
    nurse_id = ctx["nurse"].user.id
    with pytest.raises(driver.IntegrityError):
        store.conn.execute(
            "INSERT INTO stock_movements (uuid, kind, session_id, at, amount_mg, user_id, "
            "witness_id, entered_at) VALUES ('x', 'waste', ?, 'now', 1, ?, ?, 'now')",
            [session.id, nurse_id, nurse_id])
    assert stock.waste_plan(ctx["nurse"], session.id).already == ()


def test_witness_password_failures_count_toward_lockout(clinic, clock):
    store, ctx, safe, lot, session = clinic
    stock.draw_for_session(ctx["nurse"], session.id, [stock.DrawLine(lot, 500.0)], 500)
    run_infusion(ctx, clock, session.id)
    for _ in range(4):
        with pytest.raises(LoginFailed):
            stock.record_waste(ctx["nurse"], session.id, 380, "sink", "wendy", "wrong-pass")
    with pytest.raises(AccountLocked):
        stock.record_waste(ctx["nurse"], session.id, 380, "sink", "wendy", "wrong-pass")
    with pytest.raises(AccountLocked):
        stock.record_waste(ctx["nurse"], session.id, 380, "sink", "wendy", WITNESS_PW)
    assert len(store.audit_rows(action="witness_failed")) == 5
    with pytest.raises(AccountLocked):
        login(store, clock, "wendy", WITNESS_PW)  # the same counter as a login


def test_signed_sessions_waste_cannot_change(clinic, clock, driver):
    store, ctx, safe, lot, session = clinic
    stock.draw_for_session(ctx["nurse"], session.id, [stock.DrawLine(lot, 500.0)], 500)
    run_infusion(ctx, clock, session.id)
    waste_id = stock.record_waste(ctx["nurse"], session.id, 380.0, "sink", "wendy",
                                  WITNESS_PW)
    svc.complete_session(ctx["nurse"], session.id, acknowledged=ACK_READINESS)
    svc.sign_session(ctx["provider"], session.id, "provider-pass-1")
    with pytest.raises(InvalidState, match="signed"):
        stock.record_waste(ctx["nurse"], session.id, 1.0, "sink", "wendy", WITNESS_PW)
    with pytest.raises(InvalidState, match="signed"):
        stock.return_to_stock(ctx["nurse"], session.id, lot, 10.0, "error")
    for sql in (f"UPDATE stock_movements SET amount_mg = 1 WHERE id = {waste_id}",
                f"UPDATE stock_movements SET witness_id = NULL WHERE id = {waste_id}",
                f"DELETE FROM stock_movements WHERE id = {waste_id}",
                "INSERT INTO stock_movements (uuid, kind, session_id, at, amount_mg, user_id, "
                f"entered_at) VALUES ('y', 'waste', {session.id}, 'now', 5, 1, 'now')"):
        # the file's triggers refuse; the server's grants already do (no UPDATE, DELETE)
        with pytest.raises(driver.DatabaseError, match="append-only|locked|permission denied"):
            store.conn.execute(sql)
    with pytest.raises(RecordLocked):
        with store.write(ctx["admin"].actor) as w:
            w.update("stock_movements", waste_id, {"amount_mg": 2.0})
    (m,) = [m for m in stock_db.session_movements(store, session.id)
            if m.kind is MovementKind.WASTE]
    assert m.amount_mg == 380.0 and "wendy" in m.witness


def test_completed_without_waste_and_mismatch_are_discrepancies(clinic, clock):
    store, ctx, safe, lot, session = clinic
    stock.draw_for_session(ctx["nurse"], session.id, [stock.DrawLine(lot, 500.0)], 500)
    run_infusion(ctx, clock, session.id)
    svc.complete_session(ctx["nurse"], session.id, acknowledged=ACK_READINESS)
    (d,) = stock.board(ctx["provider"]).open_discrepancies
    assert d.kind is DiscrepancyKind.NO_WASTE and "STOCK, Sam (MRN S0001)" in d.text
    # the waste can still be recorded while the session awaits its signature
    stock.record_waste(ctx["nurse"], session.id, 300.0, "sink", "wendy", WITNESS_PW)
    (d,) = stock.board(ctx["provider"]).open_discrepancies
    assert d.kind is DiscrepancyKind.WASTE_MISMATCH and d.amount_mg == pytest.approx(80.0)
    with pytest.raises(PermissionDenied):
        stock.resolve(ctx["nurse"], d.key, "spilled")
    stock.resolve(ctx["provider"], d.key, "80 mg spilled while priming; reported")
    assert stock.board(ctx["provider"]).open_discrepancies == []
    with pytest.raises(InvalidState, match="already resolved"):
        stock.resolve(ctx["admin"], d.key, "again")
    assert store.audit_rows(table_name="stock_resolutions")[0]["username"] == "provider"


def test_counts_one_or_two_users_and_adjustment(clinic, clock):
    store, ctx, safe, lot, session = clinic
    with pytest.raises(PlausibilityError, match="explain the difference"):
        stock.count_location(ctx["nurse"], safe, "close", [stock.CountEntry(lot, 1500.0)])
    with pytest.raises(PlausibilityError, match="Count every lot"):
        stock.count_location(ctx["nurse"], safe, "close", [])
    stock.count_location(ctx["nurse"], safe, "close",
                         [stock.CountEntry(lot, 1500.0, "one vial missing")])
    (d,) = stock.board(ctx["admin"]).open_discrepancies
    assert d.kind is DiscrepancyKind.COUNT_DIFFERENCE and d.amount_mg == -500.0
    stock.resolve(ctx["admin"], d.key, "vial broken in the safe; DEA 106 not needed",
                  adjust=True)
    assert stock.balance_of(store, lot) == 1500.0
    assert stock.board(ctx["admin"]).open_discrepancies == []
    stock.set_stock_settings(ctx["admin"], 2, 0.5)
    with pytest.raises(PlausibilityError, match="witness"):
        stock.count_location(ctx["nurse"], safe, "opening", [stock.CountEntry(lot, 1500.0)])
    count_id = stock.count_location(ctx["nurse"], safe, "opening",
                                    [stock.CountEntry(lot, 1500.0)], "wendy", WITNESS_PW)
    (c,) = [c for c in stock_db.counts(store) if c.id == count_id]
    assert "wendy" in c.second_counter and c.business == "opening"


@pytest.mark.sqlite_only("migrates an old SQLite file")
def test_migration_from_empty_and_old_fixture(tmp_path, clock):
    import shutil
    from pathlib import Path

    from ketalog.store.connection import open_store
    from ketalog.store.schema import stock_triggers

    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "schema_m001.sqlite"
    old = tmp_path / "old.sqlite"
    shutil.copy(fixture, old)
    for path in (tmp_path / "new.sqlite", old):
        s = open_store(path, clock)
        try:
            assert set(stock_triggers()) <= s.trigger_names()
            assert s.count("stock_movements") == 0 and stock_db.lots(s) == []
            assert verify_store(s) == []
        finally:
            s.close()


def test_return_and_draw_refusals(clinic, clock):
    store, ctx, safe, lot, session = clinic
    stock.draw_for_session(ctx["nurse"], session.id, [stock.DrawLine(lot, 500.0)], 500)
    with pytest.raises(PlausibilityError, match="Only 500 mg"):
        stock.return_to_stock(ctx["nurse"], session.id, lot, 600.0, "drawn twice")
    stock.return_to_stock(ctx["nurse"], session.id, lot, 500.0, "wrong patient chair")
    assert stock.balance_of(store, lot) == 2000.0
    with pytest.raises(PermissionDenied):
        stock.draw_for_session(ctx["admin"], session.id, [stock.DrawLine(lot, 5.0)], 5)
    with pytest.raises(PlausibilityError, match="100 mg/mL"):
        stock.draw_for_session(ctx["nurse"], session.id, [stock.DrawLine(lot, 500.0)], 1)
    clock.advance(minutes=1)
    assert stock.waste_plan(ctx["nurse"], session.id).drawn_mg == 500.0
    assert clock.now() - timedelta(minutes=1) < clock.now()
