"""The controlled-substance arithmetic, over thousands of generated movements: every lot's
balance is received - drawn + returned - wasted from stock (+ adjustments), never below
zero unless flagged; every finished session's drawn = given + wasted within the
tolerance, or a discrepancy names it."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketalog.domain.stock import (
    CountLine,
    DiscrepancyKind,
    Lot,
    Movement,
    MovementKind,
    Resolution,
    SessionUse,
    StockCount,
    check_draw,
    containers_text,
    find_discrepancies,
    lot_balances,
    session_accounts,
)

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
TODAY = date(2026, 6, 1)
TOL = 0.5


def make_lot(i: int, expiry: date = date(2027, 1, 1), recalled: bool = False) -> Lot:
    return Lot(i, 1, "Ketamine HCl", 50.0, 10.0, f"L{i:03d}", expiry, recalled)


amounts = st.floats(min_value=0.01, max_value=2000, allow_nan=False).map(lambda x: round(x, 2))


@st.composite
def ledgers(draw: st.DrawFn, max_movements: int = 400
            ) -> tuple[list[Lot], list[SessionUse], list[Movement]]:
    n_lots = draw(st.integers(1, 5))
    lots = [make_lot(i, expiry=draw(st.sampled_from([date(2026, 5, 1), date(2027, 1, 1)])))
            for i in range(1, n_lots + 1)]
    n_sessions = draw(st.integers(0, 25))
    uses = [SessionUse(s, draw(st.sampled_from(["draft", "in_progress", "completed", "signed"])),
                       draw(st.floats(0, 1500).map(lambda x: round(x, 3))),
                       began_at=T0 + timedelta(hours=s))
            for s in range(1, n_sessions + 1)]
    kinds = st.sampled_from(list(MovementKind))
    movements = []
    for i in range(draw(st.integers(0, max_movements))):
        kind = draw(kinds)
        lot = draw(st.sampled_from(lots)).id
        session = draw(st.sampled_from([None, *[u.session_id for u in uses]]))
        amount = draw(amounts)
        if kind is MovementKind.ADJUSTMENT:
            amount = draw(st.sampled_from([1, -1])) * amount
            session = None
        if kind is MovementKind.RECEIVE:
            session = None
        if kind is MovementKind.WASTE and session is not None and draw(st.booleans()):
            lot = None  # a session's remainder is not tied to one lot
        movements.append(Movement(i + 1, kind, T0 + timedelta(minutes=i), amount, "nurse1",
                                  lot_id=lot, session_id=session))
    return lots, uses, movements


def by_kind(movements: list[Movement], lot_id: int, kind: MovementKind,
            stock_only: bool = False) -> float:
    return sum(m.amount_mg for m in movements if m.lot_id == lot_id and m.kind is kind
               and (not stock_only or m.session_id is None))


@settings(max_examples=60, deadline=None)
@given(ledgers())
def test_balance_is_received_minus_drawn_plus_returned_minus_stock_waste(ledger):
    lots, uses, movements = ledger
    balances = lot_balances(lots, movements)
    for lot in lots:
        b = balances[lot.id]
        expected = (by_kind(movements, lot.id, MovementKind.RECEIVE)
                    - by_kind(movements, lot.id, MovementKind.DRAW)
                    + by_kind(movements, lot.id, MovementKind.RETURN)
                    - by_kind(movements, lot.id, MovementKind.WASTE, stock_only=True)
                    + by_kind(movements, lot.id, MovementKind.ADJUSTMENT))
        assert b.balance_mg == pytest.approx(expected, abs=1e-6)
        assert b.balance_mg == pytest.approx(
            b.received_mg - b.drawn_mg + b.returned_mg - b.wasted_from_stock_mg
            + b.adjusted_mg, abs=1e-6)
        # a session's waste never moves the balance
        assert b.wasted_from_stock_mg == pytest.approx(
            by_kind(movements, lot.id, MovementKind.WASTE, stock_only=True), abs=1e-6)
    shuffled = movements[:]
    random.Random(len(movements)).shuffle(shuffled)
    again = lot_balances(lots, shuffled)
    assert all(again[k].balance_mg == pytest.approx(v.balance_mg, abs=1e-6)
               for k, v in balances.items())


@settings(max_examples=60, deadline=None)
@given(ledgers())
def test_negative_balance_and_unbalanced_sessions_are_always_flagged(ledger):
    lots, uses, movements = ledger
    picture = find_discrepancies(lots, movements, uses, [], [], TODAY, TOL,
                                 tracking_since=T0)
    flagged_lots = {d.lot_id for d in picture.discrepancies
                    if d.kind is DiscrepancyKind.NEGATIVE_BALANCE}
    flagged_sessions = {d.session_id for d in picture.discrepancies if d.session_id}
    for lot in lots:
        if picture.balances[lot.id].balance_mg < -1e-6:
            assert lot.id in flagged_lots
        else:
            assert lot.id not in flagged_lots
    for use in uses:
        ms = [m for m in movements if m.session_id == use.session_id]
        drawn = sum(m.amount_mg for m in ms if m.kind is MovementKind.DRAW)
        returned = sum(m.amount_mg for m in ms if m.kind is MovementKind.RETURN)
        wasted = sum(m.amount_mg for m in ms if m.kind is MovementKind.WASTE)
        balanced = abs(drawn - returned - use.given_mg - wasted) <= TOL + 1e-6
        if use.status in ("completed", "signed") and not balanced:
            assert use.session_id in flagged_sessions, (drawn, returned, wasted, use)
        if balanced or use.status in ("draft", "in_progress"):
            assert use.session_id not in flagged_sessions
    # expired lots with stock on hand are flagged; the others are not
    expired = {d.lot_id for d in picture.discrepancies
               if d.kind is DiscrepancyKind.EXPIRED_ON_HAND}
    assert expired == {lot.id for lot in lots if lot.expiry < TODAY
                       and picture.balances[lot.id].balance_mg > 1e-6}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["receive", "draw", "return", "stock_waste"]),
                          amounts), max_size=600))
def test_draws_checked_first_never_leave_a_negative_balance(steps):
    """The services refuse what check_draw refuses, so with no negative adjustment the
    balance cannot go below zero."""
    lot = make_lot(1)
    movements: list[Movement] = []
    for i, (what, amount) in enumerate(steps):
        balance = lot_balances([lot], movements)[1].balance_mg
        at = T0 + timedelta(minutes=i)
        if what == "receive":
            movements.append(Movement(i, MovementKind.RECEIVE, at, amount, "u", lot_id=1))
        elif what in ("draw", "stock_waste"):
            if check_draw(lot, balance, amount, TODAY) is None:
                kind = MovementKind.DRAW if what == "draw" else MovementKind.WASTE
                movements.append(Movement(i, kind, at, amount, "u", lot_id=1,
                                          session_id=7 if what == "draw" else None))
        elif what == "return":
            drawn = sum(m.amount_mg for m in movements if m.kind is MovementKind.DRAW)
            back = sum(m.amount_mg for m in movements if m.kind is MovementKind.RETURN)
            if amount <= drawn - back:
                movements.append(Movement(i, MovementKind.RETURN, at, amount, "u", lot_id=1,
                                          session_id=7))
        assert lot_balances([lot], movements)[1].balance_mg >= -1e-6


def test_thousands_of_movements_in_one_ledger():
    rng = random.Random(18)
    lots = [make_lot(i) for i in range(1, 4)]
    uses = [SessionUse(s, "signed", 0.0) for s in range(1, 400)]
    movements, given_by = [], {}
    for i in range(5000):
        lot = rng.choice(lots).id
        if i % 10 == 0:
            movements.append(Movement(i, MovementKind.RECEIVE, T0, 5000.0, "a", lot_id=lot))
            continue
        sid = rng.randrange(1, 400)
        draw = round(rng.uniform(10, 500), 2)
        give = round(draw * rng.uniform(0.5, 1.0), 3)
        movements.append(Movement(i, MovementKind.DRAW, T0, draw, "n", lot_id=lot,
                                  session_id=sid))
        movements.append(Movement(-i, MovementKind.WASTE, T0, round(draw - give, 3), "n",
                                  session_id=sid, witness="w"))
        given_by[sid] = given_by.get(sid, 0.0) + give
    uses = [SessionUse(u.session_id, "signed", given_by.get(u.session_id, 0.0))
            for u in uses]
    picture = find_discrepancies(lots, movements, uses, [], [], TODAY, TOL)
    assert len(movements) > 9000
    assert picture.discrepancies == [] or all(
        d.kind is DiscrepancyKind.NEGATIVE_BALANCE for d in picture.discrepancies)
    receipts = {lot.id: sum(m.amount_mg for m in movements
                            if m.lot_id == lot.id and m.kind is MovementKind.RECEIVE)
                for lot in lots}
    draws = {lot.id: sum(m.amount_mg for m in movements
                         if m.lot_id == lot.id and m.kind is MovementKind.DRAW) for lot in lots}
    for lot in lots:
        assert picture.balances[lot.id].balance_mg == pytest.approx(
            receipts[lot.id] - draws[lot.id], abs=1e-6)


def test_session_kinds_of_discrepancy():
    lots = [make_lot(1)]
    rec = Movement(1, MovementKind.RECEIVE, T0, 5000.0, "admin", lot_id=1)
    draw = Movement(2, MovementKind.DRAW, T0, 500.0, "nurse", lot_id=1, session_id=1)
    uses = [SessionUse(1, "completed", 300.0, "DOE, Jane", "M1")]
    no_waste = find_discrepancies(lots, [rec, draw], uses, [], [], TODAY)
    assert [d.kind for d in no_waste.discrepancies] == [DiscrepancyKind.NO_WASTE]
    assert "DOE, Jane (MRN M1)" in no_waste.discrepancies[0].text
    waste = Movement(3, MovementKind.WASTE, T0, 150.0, "nurse", session_id=1, witness="w")
    mismatch = find_discrepancies(lots, [rec, draw, waste], uses, [], [], TODAY)
    assert [d.kind for d in mismatch.discrepancies] == [DiscrepancyKind.WASTE_MISMATCH]
    assert mismatch.discrepancies[0].amount_mg == pytest.approx(50.0)
    ok = Movement(3, MovementKind.WASTE, T0, 199.6, "nurse", session_id=1, witness="w")
    assert find_discrepancies(lots, [rec, draw, ok], uses, [], [], TODAY).discrepancies == []
    # in progress: not judged yet
    running = [SessionUse(1, "in_progress", 300.0)]
    assert find_discrepancies(lots, [rec, draw], running, [], [], TODAY).discrepancies == []
    # given with no draw, after tracking began
    nodraw = find_discrepancies(lots, [rec], [SessionUse(1, "signed", 80.0, began_at=T0)],
                                [], [], TODAY, tracking_since=T0)
    assert [d.kind for d in nodraw.discrepancies] == [DiscrepancyKind.NO_DRAW]
    before = find_discrepancies(lots, [rec], [SessionUse(1, "signed", 80.0, began_at=T0)],
                                [], [], TODAY, tracking_since=T0 + timedelta(days=1))
    assert before.discrepancies == []


def test_count_differences_and_resolutions():
    lots = [make_lot(1)]
    rec = Movement(1, MovementKind.RECEIVE, T0, 5000.0, "admin", lot_id=1)
    count = StockCount(1, 1, T0, "close", "nurse1", "nurse2",
                       lines=(CountLine(9, 1, 5000.0, 4500.0, "one vial broken"),))
    picture = find_discrepancies(lots, [rec], [], [count], [], TODAY)
    (d,) = picture.discrepancies
    assert d.kind is DiscrepancyKind.COUNT_DIFFERENCE and d.key == "count_difference:9"
    assert d.amount_mg == -500.0 and "nurse1 and nurse2" in d.text and d.open
    resolved = find_discrepancies(lots, [rec], [], [count],
                                  [Resolution(d.key, T0, "dr", "vial broken, adjusted")], TODAY)
    assert not resolved.discrepancies[0].open and resolved.open_discrepancies == []
    exact = StockCount(2, 1, T0, "opening", "nurse1",
                       lines=(CountLine(10, 1, 5000.0, 5000.0),))
    assert find_discrepancies(lots, [rec], [], [exact], [], TODAY).discrepancies == []


def test_draw_refusals():
    lot = make_lot(1, expiry=date(2026, 5, 31))
    assert check_draw(lot, 500, 100, date(2026, 5, 31)) is None  # usable on its expiry day
    assert "expired on 2026-05-31" in check_draw(lot, 500, 100, date(2026, 6, 1))
    assert "recalled" in check_draw(make_lot(2, recalled=True), 500, 100, TODAY)
    assert "holds 50.0 mg" in check_draw(make_lot(3), 50, 100, TODAY)
    assert check_draw(make_lot(3), 50, 0, TODAY)


def test_containers_text():
    lot = make_lot(1)  # 500 mg per vial
    rec = Movement(1, MovementKind.RECEIVE, T0, 2700.0, "a", lot_id=1)
    assert containers_text(lot_balances([lot], [rec])[1]) == "5 + 0.40 open"
    rec = Movement(1, MovementKind.RECEIVE, T0, 2500.0, "a", lot_id=1)
    assert containers_text(lot_balances([lot], [rec])[1]) == "5"
    acc = session_accounts([SessionUse(1, "signed", 10.0)], [])[1]
    assert acc.difference_mg == -10.0 and not acc.balanced(0.5)
