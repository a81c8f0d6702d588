"""The demo clinic's controlled-substance record: each month's lot received into the
safe by the provider, every session's bag drawn from it, the remainder wasted at
completion with the other nurse as witness, counts at the close of business, and a few
discrepancies (one resolved, two open) to show the board at work. Written before the
provider signs, as in real use (a signed session's stock record takes nothing new)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Protocol

from ketalog.domain.clock import from_iso
from ketalog.domain.stock import MovementKind, lot_balances
from ketalog.services.errors import service_boundary
from ketalog.services.stock import given_mg
from ketalog.store import stock as db
from ketalog.store.store import Actor, Store, Writer
from ketalog.store.values import as_float

PRODUCT = "Ketamine HCl injection"
STRENGTH_MG_PER_ML = 50.0
VIAL_ML = 10.0
VIAL_MG = STRENGTH_MG_PER_ML * VIAL_ML
SUPPLIER = "Henry Schein (demo)"


class BuiltSession(Protocol):
    """What the demo generator's session carries (services.demo._Built)."""

    id: int
    nurse: int
    row: dict[str, object]
    children: dict[str, list[dict[str, object]]]
    completed_at: datetime | None
    provider_sign_at: datetime | None


@service_boundary
def add_demo_stock(store: Store, ids: Mapping[str, int], built: Sequence[BuiltSession],
                   now: datetime) -> int:
    """Returns the number of movements written."""
    sessions = sorted((b for b in built if b.row.get("infusion_start_at")),
                      key=lambda b: str(b.row["infusion_start_at"]))
    if not sessions:
        return 0
    provider = Actor(ids["provider"], "provider")
    nurses = (ids["nurse"], ids["nurse2"])
    by_lot: dict[str, list[BuiltSession]] = {}
    for item in sessions:
        by_lot.setdefault(str(item.row["bag_lot"]), []).append(item)
    # Three recent completed sessions: one completed without a waste record (open), one
    # whose waste does not match (resolved by the provider), one a millilitre short.
    unsigned = [b for b in sessions if b.completed_at and b.provider_sign_at is None]
    no_waste = unsigned[-1].id if unsigned else None
    finished = [b for b in sessions if b.completed_at and b.provider_sign_at is not None]
    mismatch = finished[-8].id if len(finished) > 8 else None
    written = 0
    with store.write(provider) as w:
        safe = db.insert_location(w, "Safe A (treatment room)")
        lot_ids: dict[str, int] = {}
        for lot_number, items in by_lot.items():
            first = from_iso(str(items[0].row["arrival_at"]))
            expiry = date.fromisoformat(str(items[0].row["bag_expiry"]))
            lot_ids[lot_number] = db.insert_lot(w, safe, PRODUCT, STRENGTH_MG_PER_ML, VIAL_ML,
                                                lot_number, expiry)
            need = sum(as_float(b.row["bag_concentration_mg_per_ml"])
                       * as_float(b.row["bag_volume_ml"]) for b in items)
            vials = math.ceil(need / VIAL_MG) + 2
            received = datetime(first.year, first.month, 1, 8, 0, tzinfo=first.tzinfo)
            db.insert_movement(w, MovementKind.RECEIVE, amount_mg=vials * VIAL_MG,
                               at=min(received, first - timedelta(hours=1)),
                               user_id=ids["provider"], lot_id=lot_ids[lot_number],
                               supplier=SUPPLIER, invoice=f"INV-{lot_number[-3:]}{first:%m%y}",
                               containers=float(vials), volume_ml=vials * VIAL_ML)
            written += 1
    for nurse, name in ((nurses[0], "nurse"), (nurses[1], "nurse2")):
        witness = nurses[1] if nurse == nurses[0] else nurses[0]
        with store.write(Actor(nurse, name)) as w:  # one transaction per nurse
            for item in (b for b in sessions if b.nurse == nurse):
                written += _draw_and_waste(w, item, lot_ids, witness, no_waste, mismatch)
    _counts_and_resolutions(store, ids, safe, mismatch, now)
    return written + 1


def _draw_and_waste(w: Writer, item: BuiltSession, lot_ids: Mapping[str, int], witness: int,
                    no_waste: int | None, mismatch: int | None) -> int:
    start = from_iso(str(item.row["infusion_start_at"]))
    drawn = (as_float(item.row["bag_concentration_mg_per_ml"])
             * as_float(item.row["bag_volume_ml"]))
    db.insert_movement(w, MovementKind.DRAW, amount_mg=drawn, at=start - timedelta(minutes=12),
                       user_id=item.nurse, lot_id=lot_ids[str(item.row["bag_lot"])],
                       session_id=item.id, volume_ml=drawn / STRENGTH_MG_PER_ML)
    if item.completed_at is None or item.id == no_waste:
        return 1
    waste = round(drawn - given_mg(w.store, item.id, w.store.clock.now()), 2)
    note = ""
    if item.id == mismatch:
        waste, note = round(max(0.0, waste - 25.0), 2), "bag line leaked at the spike"
    at = item.completed_at - timedelta(minutes=2)
    db.insert_movement(w, MovementKind.WASTE, amount_mg=max(waste, 0.0), at=at,
                       user_id=item.nurse, session_id=item.id, witness_id=witness,
                       witness_at=at, method="drug disposal container", reason=note)
    return 2


def _counts_and_resolutions(store: Store, ids: Mapping[str, int], safe: int,
                            mismatch: int | None, now: datetime) -> None:
    """A clean count a week ago, last night's count one open vial short (open), and the
    provider's resolution of the leaked bag."""
    lots = db.lots(store)
    moves = db.movements(store)
    nurse, nurse2 = ids["nurse"], ids["nurse2"]
    for days_ago, short_mg in ((7, 0.0), (1, 25.0)):
        at = (now - timedelta(days=days_ago)).replace(hour=18, minute=30, second=0,
                                                      microsecond=0)
        before = [m for m in moves if m.at <= at]
        balances = lot_balances(lots, before)
        lines = []
        on_hand = [b for b in balances.values() if b.balance_mg > 1e-6]
        for n, b in enumerate(on_hand):
            short = short_mg if n == len(on_hand) - 1 else 0.0
            lines.append((b.lot.id, b.balance_mg, b.balance_mg - short,
                          "open vial: 0.5 mL less than the record; cracked stopper?"
                          if short else ""))
        with store.write(Actor(nurse, "nurse")) as w:
            db.insert_count(w, safe, at, "close", nurse, nurse2, "", lines)
    if mismatch is not None:
        with store.write(Actor(ids["provider"], "provider")) as w:
            db.insert_resolution(w, f"waste_mismatch:{mismatch}", ids["provider"],
                                 "Spoke with both nurses: 25 mg lost when the bag line leaked "
                                 "at the spike; witnessed, no diversion suspected.", None)
