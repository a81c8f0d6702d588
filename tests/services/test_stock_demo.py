"""The demo clinic's controlled-substance record: receipts, draws for every bag, wastes
with a witness who is never the nurse, counts, and discrepancies to resolve."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ketalog.domain.clock import FixedClock
from ketalog.domain.stock import DiscrepancyKind, MovementKind
from ketalog.services import stock
from ketalog.services.auth import login
from ketalog.services.demo import create_demo
from ketalog.store import stock as stock_db
from ketalog.store.verify import verify_store
from tests.engines import ENGINES, open_new_database

pytestmark = pytest.mark.both_engines

NOW = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


@pytest.fixture(scope="module", params=ENGINES)
def demo(request, tmp_path_factory):
    clock = FixedClock(NOW)
    store = open_new_database(request.param, request, tmp_path_factory.mktemp("stockdemo"), clock)
    report = create_demo(store, clock, seed=1)
    yield store, clock, report
    store.close()


def test_demo_stock_is_complete_and_consistent(demo):
    store, clock, report = demo
    provider = login(store, clock, "provider", report.passwords["provider"])
    data = stock.board_data(provider)
    kinds = {k: [m for m in data.movements if m.kind is k] for k in MovementKind}
    assert kinds[MovementKind.RECEIVE] and all(m.supplier and m.invoice
                                               for m in kinds[MovementKind.RECEIVE])
    sessions = store.rows("sessions")
    started = [s for s in sessions if s["infusion_start_at"]]
    assert {m.session_id for m in kinds[MovementKind.DRAW]} == {s["id"] for s in started}
    wastes = kinds[MovementKind.WASTE]
    assert wastes and all(m.witness and m.witness != m.user and m.witness_at for m in wastes)
    assert all(b.balance_mg >= 0 for b in data.picture.balances.values())
    # the bag's mg are what was drawn
    for s in started:
        drawn = sum(m.amount_mg for m in kinds[MovementKind.DRAW] if m.session_id == s["id"])
        assert drawn == pytest.approx(s["bag_concentration_mg_per_ml"] * s["bag_volume_ml"])
    open_kinds = sorted(d.kind.value for d in data.picture.open_discrepancies)
    assert open_kinds == [DiscrepancyKind.COUNT_DIFFERENCE.value, DiscrepancyKind.NO_WASTE.value]
    resolved = [d for d in data.picture.discrepancies if not d.open]
    assert [d.kind for d in resolved] == [DiscrepancyKind.WASTE_MISMATCH]
    assert len(stock_db.counts(store)) == 2
    assert verify_store(store) == []


def test_the_demo_discrepancies_can_be_resolved(demo):
    store, clock, report = demo
    provider = login(store, clock, "provider", report.passwords["provider"])
    for d in stock.board(provider).open_discrepancies:
        stock.resolve(provider, d.key, "reviewed with the nurses",
                      adjust=d.kind is DiscrepancyKind.COUNT_DIFFERENCE)
    assert stock.board(provider).open_discrepancies == []
