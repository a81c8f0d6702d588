"""The controlled-substance record as use cases: receive (admin, provider), draw for a
session's bag (nurse, provider), waste with a witness who authenticates on the same
screen, returns, counts (one or two counters, per clinic setting), recalls, and the
resolution of discrepancies (provider, admin). Every change is audited through the
Writer; the ledger itself only grows (store triggers)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from weakref import WeakKeyDictionary

from ketalog.domain import dosing
from ketalog.domain.clock import Clock, from_iso
from ketalog.domain.entities import Role, SessionStatus, User
from ketalog.domain.errors import PlausibilityError
from ketalog.domain.stock import (
    DEFAULT_TOLERANCE_MG,
    EPS_MG,
    WASTE_METHODS,
    Discrepancy,
    DiscrepancyKind,
    Lot,
    Movement,
    MovementKind,
    SessionUse,
    StockCount,
    StockPicture,
    check_draw,
    find_discrepancies,
    lot_balances,
)
from ketalog.services.context import Context
from ketalog.services.errors import (
    InvalidState,
    ServiceError,
    service_boundary,
)
from ketalog.services.sessions import dose_events, get_session
from ketalog.services.summary import dose_summary
from ketalog.services.witness import verify_witness
from ketalog.store import settings as stored
from ketalog.store import stock as db
from ketalog.store.store import Store

RECEIVERS = (Role.ADMIN, Role.PROVIDER)
RESOLVERS = (Role.ADMIN, Role.PROVIDER)
DRAWERS = (Role.NURSE, Role.PROVIDER)
EVERYONE = (Role.NURSE, Role.PROVIDER, Role.ADMIN)
COUNT_USERS_SETTING = "stock_count_users"
TOLERANCE_SETTING = "stock_waste_tolerance_mg"


# -- settings ----------------------------------------------------------------
@service_boundary
def count_users_required(store: Store) -> int:
    return 2 if stored.value(store, COUNT_USERS_SETTING) == 2 else 1


@service_boundary
def waste_tolerance_mg(store: Store) -> float:
    value = stored.number(store, TOLERANCE_SETTING)
    if value is not None and 0 <= value <= 50:
        return value
    return DEFAULT_TOLERANCE_MG


@service_boundary
def set_stock_settings(ctx: Context, count_users: int, tolerance_mg: float,
                       reason: str = "") -> None:
    ctx.require(Role.ADMIN, action="change controlled-substance settings")
    if count_users not in (1, 2):
        raise PlausibilityError.single("stock_count_users", count_users, "1 or 2",
                                       "A count is taken by one or two users")
    if not 0 <= tolerance_mg <= 50:
        raise PlausibilityError.single(TOLERANCE_SETTING, tolerance_mg, "0-50 mg",
                                       "The waste tolerance must be 0-50 mg")
    with ctx.store.write(ctx.actor) as w:
        stored.write(w, COUNT_USERS_SETTING, count_users, reason)
        stored.write(w, TOLERANCE_SETTING, float(tolerance_mg), reason)


# -- helpers -----------------------------------------------------------------
def _today(clock: Clock) -> date:
    return clock.now().astimezone().date()  # the clinic's calendar day


def _positive(field: str, label: str, value: float, unit: str, high: float) -> float:
    if not isinstance(value, int | float) or math.isnan(value) or not 0 < value <= high:
        raise PlausibilityError.single(field, value, f"> 0 and <= {high:g} {unit}",
                                       f"{label} must be more than 0 and at most "
                                       f"{high:g} {unit}")
    return float(value)


def _lot(store: Store, lot_id: int) -> Lot:
    found = db.lot(store, lot_id)
    if found is None:
        raise ServiceError(f"no stock lot with id {lot_id}")
    return found


@service_boundary
def balance_of(store: Store, lot_id: int) -> float:
    lot = _lot(store, lot_id)
    return lot_balances([lot], db.movements(store))[lot_id].balance_mg


@service_boundary
def locations(ctx: Context) -> list[tuple[int, str]]:
    ctx.require(*EVERYONE, action="see stock locations")
    return db.locations(ctx.store)


@service_boundary
def add_location(ctx: Context, name: str) -> int:
    ctx.require(*RECEIVERS, action="add stock locations")
    clean = name.strip()
    if not 1 <= len(clean) <= 80:
        raise PlausibilityError.single("location", name, "1-80 characters",
                                       "A storage location needs a name (e.g. 'Safe A')")
    if db.location_by_name(ctx.store, clean) is not None:
        raise ServiceError(f"a storage location named {clean!r} already exists")
    with ctx.store.write(ctx.actor) as w:
        return db.insert_location(w, clean)


# -- receive -----------------------------------------------------------------
@dataclass(frozen=True)
class Receipt:
    location_id: int
    product: str
    strength_mg_per_ml: float
    container_ml: float
    lot_number: str
    expiry: date
    supplier: str
    invoice: str
    containers: int


@service_boundary
def receive(ctx: Context, r: Receipt) -> int:
    """Stock in: whole containers of one lot into one location. Returns the lot id."""
    ctx.require(*RECEIVERS, action="receive controlled substances")
    strength = _positive("strength_mg_per_ml", "Strength", r.strength_mg_per_ml, "mg/mL", 500)
    size = _positive("container_ml", "Container size", r.container_ml, "mL", 1000)
    if not isinstance(r.containers, int) or not 1 <= r.containers <= 10000:
        raise PlausibilityError.single("containers", r.containers, "1-10000",
                                       "Quantity is a whole number of containers (1-10000)")
    for field, label, text in (("product", "Product", r.product),
                               ("lot_number", "Lot number", r.lot_number),
                               ("supplier", "Supplier", r.supplier),
                               ("invoice", "Invoice", r.invoice)):
        if not text.strip():
            raise PlausibilityError.single(field, text, "required", f"{label} is required")
    if r.expiry < _today(ctx.clock):
        raise PlausibilityError.single("expiry", r.expiry.isoformat(),
                                       f">= {_today(ctx.clock)}",
                                       "This lot is already expired; do not receive it")
    if r.location_id not in dict(db.locations(ctx.store)):
        raise ServiceError(f"no storage location with id {r.location_id}")
    existing = db.find_lot(ctx.store, r.location_id, r.product.strip(), strength, size,
                           r.lot_number.strip())
    if existing is not None and existing.expiry != r.expiry:
        raise PlausibilityError.single(
            "expiry", r.expiry.isoformat(), existing.expiry.isoformat(),
            f"Lot {existing.lot_number} is on record with expiry {existing.expiry}; "
            "check the label")
    with ctx.store.write(ctx.actor) as w:
        lot_id = existing.id if existing else db.insert_lot(
            w, r.location_id, r.product.strip(), strength, size, r.lot_number.strip(),
            r.expiry)
        db.insert_movement(w, MovementKind.RECEIVE, amount_mg=strength * size * r.containers,
                           at=ctx.clock.now(), user_id=ctx.user.id, lot_id=lot_id,
                           supplier=r.supplier.strip(), invoice=r.invoice.strip(),
                           containers=float(r.containers), volume_ml=size * r.containers)
    return lot_id


@service_boundary
def recall_lot(ctx: Context, lot_id: int, reason: str) -> None:
    ctx.require(*RESOLVERS, action="recall stock lots")
    if not reason.strip():
        raise PlausibilityError.single("recall_reason", reason, "required",
                                       "Give the reason for the recall (notice, number)")
    lot = _lot(ctx.store, lot_id)
    if lot.recalled:
        raise InvalidState(f"lot {lot.lot_number} is already recalled")
    with ctx.store.write(ctx.actor) as w:
        db.recall_lot(w, lot_id, reason.strip())


# -- draw --------------------------------------------------------------------
@dataclass(frozen=True)
class DrawLine:
    lot_id: int
    amount_mg: float


def _draftable(store: Store, session_id: int) -> None:
    session = get_session(store, session_id)
    if session.status is SessionStatus.SIGNED:
        raise InvalidState("this session is signed and locked; its stock record is final")
    if session.status is SessionStatus.COMPLETED:
        raise InvalidState("this session is completed; nothing more can be drawn for it")
    if dose_events(store, session_id):
        raise InvalidState("the infusion has begun: the bag is in use and cannot be "
                           "re-prepared")


@service_boundary
def draw_for_session(ctx: Context, session_id: int, lines: Sequence[DrawLine],
                     bag_volume_ml: float, drug: str = "ketamine") -> float:
    """The nurse prepares the bag: lots and mg drawn, final bag volume in mL. The bag's
    mg (all draws for the session) and volume then come from the record, so the
    concentration and the pump's mL/h are exact. Returns the bag's mg/mL."""
    ctx.require(*DRAWERS, action="draw controlled substances")
    if not lines:
        raise PlausibilityError.single("lines", [], "at least one lot",
                                       "Choose the lot(s) and the mg drawn")
    volume = _positive("bag_volume_ml", "Bag volume", bag_volume_ml, "mL", 5000)
    _draftable(ctx.store, session_id)
    today, now = _today(ctx.clock), ctx.clock.now()
    all_moves = db.movements(ctx.store)
    wanted: dict[int, float] = {}
    for line in lines:
        _positive("amount_mg", "Amount drawn", line.amount_mg, "mg", 100000)
        wanted[line.lot_id] = wanted.get(line.lot_id, 0.0) + line.amount_mg
    lots = {lot_id: _lot(ctx.store, lot_id) for lot_id in wanted}
    balances = lot_balances(lots.values(), all_moves)
    for lot_id, amount in wanted.items():
        problem = check_draw(lots[lot_id], balances[lot_id].balance_mg, amount, today)
        if problem:
            raise PlausibilityError.single("lot", lots[lot_id].lot_number, "drawable",
                                           f"Refused: {problem}")
    earlier = [m for m in all_moves if m.session_id == session_id]
    drawn = math.fsum([*(m.amount_mg for m in earlier if m.kind is MovementKind.DRAW),
                       *(-m.amount_mg for m in earlier if m.kind is MovementKind.RETURN),
                       *wanted.values()])
    used = {m.lot_id for m in earlier if m.kind is MovementKind.DRAW} | set(wanted)
    used_lots = [db.lot(ctx.store, i) for i in sorted(i for i in used if i is not None)]
    concentration = drawn / volume
    if concentration > 100:
        raise PlausibilityError.single("bag_volume_ml", volume, f">= {drawn / 100:g} mL",
                                       f"{drawn:g} mg in {volume:g} mL is above 100 mg/mL; "
                                       "check the bag volume")
    with ctx.store.write(ctx.actor) as w:
        for line in lines:
            db.insert_movement(w, MovementKind.DRAW, amount_mg=float(line.amount_mg), at=now,
                               user_id=ctx.user.id, lot_id=line.lot_id, session_id=session_id,
                               volume_ml=line.amount_mg / lots[line.lot_id].strength_mg_per_ml)
        db.update_session_bag(
            w, session_id, drug=drug.strip() or "ketamine",
            concentration_mg_per_ml=concentration, volume_ml=volume,
            lot_text=", ".join(lot.lot_number for lot in used_lots if lot),
            expiry=min((lot.expiry for lot in used_lots if lot), default=None))
    return concentration


@service_boundary
def return_to_stock(ctx: Context, session_id: int, lot_id: int, amount_mg: float,
                    reason: str) -> int:
    """Drawn in error and unused (a sealed container put back): back into the lot."""
    ctx.require(*DRAWERS, action="return controlled substances")
    if not reason.strip():
        raise PlausibilityError.single("reason", reason, "required",
                                       "Give the reason for the return")
    amount = _positive("amount_mg", "Amount returned", amount_mg, "mg", 100000)
    session = get_session(ctx.store, session_id)
    if session.status is SessionStatus.SIGNED:
        raise InvalidState("this session is signed and locked; its stock record is final")
    moves = [m for m in db.session_movements(ctx.store, session_id) if m.lot_id == lot_id]
    left = math.fsum([*(m.amount_mg for m in moves if m.kind is MovementKind.DRAW),
                      *(-m.amount_mg for m in moves if m.kind is MovementKind.RETURN)])
    if amount > left + EPS_MG:
        raise PlausibilityError.single("amount_mg", amount, f"<= {left:g} mg",
                                       f"Only {left:g} mg of this lot was drawn for the "
                                       "session and not returned")
    with ctx.store.write(ctx.actor) as w:
        return db.insert_movement(w, MovementKind.RETURN, amount_mg=amount,
                                  at=ctx.clock.now(), user_id=ctx.user.id, lot_id=lot_id,
                                  session_id=session_id, reason=reason.strip())


# -- witness and waste -------------------------------------------------------
@dataclass(frozen=True)
class WastePlan:
    """What the waste step shows before anything is recorded."""

    session_id: int
    drawn_mg: float
    returned_mg: float
    given_mg: float
    already: tuple[str, ...]  # existing waste records, as text

    @property
    def expected_waste_mg(self) -> float:
        return max(0.0, self.drawn_mg - self.returned_mg - self.given_mg)


@service_boundary
def session_patient(ctx: Context, session_id: int) -> str:
    """'FAMILY, Given · MRN x · DOB y · allergies': the identifiers a stock screen shows."""
    from ketalog.services.patients import get_patient

    p = get_patient(ctx, get_session(ctx.store, session_id).patient_id)
    return (f"{p.family_name.upper()}, {p.given_name} · MRN {p.mrn} · DOB "
            f"{p.birth_date.isoformat()} · session {session_id}")


@service_boundary
def given_mg(store: Store, session_id: int, now: datetime) -> float:
    """The session's total from the dose timeline: the one domain total the session
    screen and the PDF show (never recomputed here)."""
    session = get_session(store, session_id)
    running = now if session.status is SessionStatus.IN_PROGRESS else None
    return dose_summary(store, session_id, session.weight_kg, now=running).total_mg


@service_boundary
def waste_plan(ctx: Context, session_id: int) -> WastePlan | None:
    """None when nothing was drawn from stock for this session (no waste step)."""
    ctx.require(*EVERYONE, action="see the stock record")
    moves = db.session_movements(ctx.store, session_id)
    draws = [m for m in moves if m.kind is MovementKind.DRAW]
    if not draws:
        return None
    wastes = [m for m in moves if m.kind is MovementKind.WASTE]
    return WastePlan(
        session_id, math.fsum(m.amount_mg for m in draws),
        math.fsum(m.amount_mg for m in moves if m.kind is MovementKind.RETURN),
        given_mg(ctx.store, session_id, ctx.clock.now()),
        tuple(f"{m.amount_mg:g} mg by {m.user}, witnessed by {m.witness} "
              f"({m.method})" for m in wastes))


@service_boundary
def record_waste(ctx: Context, session_id: int, amount_mg: float, method: str,
                 witness_username: str, witness_password: str, note: str = "") -> int:
    """The unused remainder at Complete, witnessed. Once the session is signed it is
    final (a trigger refuses any later insert; the ledger refuses updates)."""
    ctx.require(*DRAWERS, action="waste controlled substances")
    if not isinstance(amount_mg, int | float) or math.isnan(amount_mg) or amount_mg < 0 \
            or amount_mg > 100000:
        raise PlausibilityError.single("amount_mg", amount_mg, "0-100000 mg",
                                       "Waste must be 0 mg or more")
    if not method.strip():
        raise PlausibilityError.single("method", method, "required",
                                       "Say how it was wasted (e.g. drug disposal container)")
    session = get_session(ctx.store, session_id)
    if session.status is SessionStatus.SIGNED:
        raise InvalidState("this session is signed and locked; its waste record is final")
    if dosing.infusion_state(dose_events(ctx.store, session_id)) in ("running", "paused"):
        raise InvalidState("the infusion is still running; stop it before wasting")
    plan = waste_plan(ctx, session_id)
    if plan is None:
        raise InvalidState("nothing was drawn from stock for this session")
    if plan.already:
        raise InvalidState(f"a waste is already recorded for this session: {plan.already[0]}; "
                           "a correction is resolved on the Controlled substances board")
    witness = verify_witness(ctx, witness_username, witness_password)
    now = ctx.clock.now()
    with ctx.store.write(ctx.actor) as w:
        return db.insert_movement(w, MovementKind.WASTE, amount_mg=float(amount_mg), at=now,
                                  user_id=ctx.user.id, session_id=session_id,
                                  witness_id=witness.id, witness_at=now,
                                  method=method.strip(), reason=note.strip())


@service_boundary
def waste_from_stock(ctx: Context, lot_id: int, amount_mg: float, method: str, reason: str,
                     witness_username: str, witness_password: str) -> int:
    """Stock destroyed outside a session (expired, broken, contaminated), witnessed."""
    ctx.require(*EVERYONE, action="waste controlled substances")
    amount = _positive("amount_mg", "Amount wasted", amount_mg, "mg", 100000)
    if not method.strip() or not reason.strip():
        raise PlausibilityError.single("method" if not method.strip() else "reason", "",
                                       "required", "Give the method and the reason")
    balance = balance_of(ctx.store, lot_id)
    if amount > balance + EPS_MG:
        raise PlausibilityError.single("amount_mg", amount, f"<= {balance:g} mg",
                                       f"The lot holds {balance:g} mg")
    witness = verify_witness(ctx, witness_username, witness_password)
    now = ctx.clock.now()
    with ctx.store.write(ctx.actor) as w:
        return db.insert_movement(w, MovementKind.WASTE, amount_mg=amount, at=now,
                                  user_id=ctx.user.id, lot_id=lot_id, witness_id=witness.id,
                                  witness_at=now, method=method.strip(), reason=reason.strip())


# -- counts ------------------------------------------------------------------
@dataclass(frozen=True)
class CountEntry:
    lot_id: int
    counted_mg: float
    explanation: str = ""


@service_boundary
def count_location(ctx: Context, location_id: int, business: str,
                   entries: Sequence[CountEntry], second_username: str = "",
                   second_password: str = "", note: str = "") -> int:
    """A physical count against the computed balance; every difference needs its
    explanation and stays open until a provider or admin resolves it."""
    ctx.require(*EVERYONE, action="count controlled substances")
    if business not in ("opening", "close"):
        raise PlausibilityError.single("business", business, "opening or close",
                                       "Say whether the count is at the opening or the "
                                       "close of business")
    lots = {lot.id: lot for lot in db.lots(ctx.store) if lot.location_id == location_id}
    balances = lot_balances(lots.values(), db.movements(ctx.store))
    seen = {e.lot_id for e in entries}
    missing = [lots[i].lot_number for i, b in balances.items()
               if i not in seen and abs(b.balance_mg) > EPS_MG]
    if missing:
        raise PlausibilityError.single("lots", missing, "every lot on hand",
                                       "Count every lot on hand: " + ", ".join(missing))
    lines = []
    for e in entries:
        if e.lot_id not in lots:
            raise ServiceError(f"lot {e.lot_id} is not kept in this location")
        if not isinstance(e.counted_mg, int | float) or math.isnan(e.counted_mg) \
                or e.counted_mg < 0:
            raise PlausibilityError.single("counted_mg", e.counted_mg, ">= 0 mg",
                                           "A count is 0 mg or more")
        expected = balances[e.lot_id].balance_mg
        if abs(e.counted_mg - expected) > EPS_MG and not e.explanation.strip():
            raise PlausibilityError.single(
                "explanation", lots[e.lot_id].lot_number, "required",
                f"Lot {lots[e.lot_id].lot_number}: counted {e.counted_mg:g} mg but the "
                f"record says {expected:g} mg; explain the difference")
        lines.append((e.lot_id, expected, float(e.counted_mg), e.explanation.strip()))
    second: User | None = None
    if count_users_required(ctx.store) == 2 or second_username.strip():
        second = verify_witness(ctx, second_username, second_password)
    with ctx.store.write(ctx.actor) as w:
        return db.insert_count(w, location_id, ctx.clock.now(), business,
                               ctx.user.id or 0, None if second is None else second.id,
                               note.strip(), lines)


# -- the picture and resolutions --------------------------------------------
# A signed session's doses can never change (triggers), so its total is read once per
# open store: refreshing the board then costs one query per unsigned session only.
_SIGNED_GIVEN: WeakKeyDictionary[Store, dict[int, float]] = WeakKeyDictionary()


def _uses(store: Store, now: datetime, since: datetime | None) -> list[SessionUse]:
    uses = []
    names = db.user_names(store)
    signed = _SIGNED_GIVEN.setdefault(store, {})
    for s in db.stock_sessions(store, since):
        sid = s.id
        if s.status == SessionStatus.SIGNED.value:
            if sid not in signed:
                signed[sid] = given_mg(store, sid, now)
            given = signed[sid]
        else:
            given = given_mg(store, sid, now)
        uses.append(SessionUse(
            sid, s.status, given, f"{s.family_name.upper()}, {s.given_name}", s.mrn,
            from_iso(s.began), names.get(s.nurse_id or 0, "")))
    return uses


@service_boundary
def picture(store: Store, now: datetime) -> StockPicture:
    """Balances, session accounts and discrepancies as of `now` (no permission check:
    callers check; the CLI, the board and the reports all come through here)."""
    since = db.first_receipt_at(store)
    return find_discrepancies(db.lots(store), db.movements(store), _uses(store, now, since),
                              db.counts(store), db.resolutions(store),
                              now.astimezone().date(), waste_tolerance_mg(store), since)


@service_boundary
def board(ctx: Context) -> StockPicture:
    ctx.require(*RESOLVERS, action="open the Controlled substances board")
    return picture(ctx.store, ctx.clock.now())


@service_boundary
def drawable_lots(ctx: Context) -> list[tuple[Lot, float]]:
    """Lots a nurse may draw from today, with their balance in mg."""
    ctx.require(*EVERYONE, action="see stock balances")
    today = _today(ctx.clock)
    lots = db.lots(ctx.store)
    balances = lot_balances(lots, db.movements(ctx.store))
    return [(lot, balances[lot.id].balance_mg) for lot in lots
            if not lot.recalled and not lot.expired_on(today)
            and balances[lot.id].balance_mg > EPS_MG]


@service_boundary
def resolve(ctx: Context, key: str, note: str, adjust: bool = False) -> int:
    """A provider or admin closes one open discrepancy with a note (audited). For a count
    difference, `adjust` also books the difference as an adjustment so the balance
    matches what was counted."""
    ctx.require(*RESOLVERS, action="resolve stock discrepancies")
    ctx.refuse_in_emergency("resolve stock discrepancies")
    if not note.strip():
        raise PlausibilityError.single("note", note, "required",
                                       "Say what was found and done")
    current = picture(ctx.store, ctx.clock.now())
    found: Discrepancy | None = next((d for d in current.discrepancies if d.key == key), None)
    if found is None:
        raise ServiceError(f"no discrepancy {key!r}")
    if found.resolution is not None:  # not open
        raise InvalidState(f"already resolved by {found.resolution.by}"
                           f" on {found.resolution.at.astimezone():%Y-%m-%d %H:%M}")
    if adjust and found.kind is not DiscrepancyKind.COUNT_DIFFERENCE:
        raise InvalidState("only a count difference is adjusted; the others are explained")
    with ctx.store.write(ctx.actor) as w:
        adjustment = None
        if adjust and abs(found.amount_mg) > EPS_MG:
            adjustment = db.insert_movement(
                w, MovementKind.ADJUSTMENT, amount_mg=found.amount_mg, at=ctx.clock.now(),
                user_id=ctx.user.id, lot_id=found.lot_id, reason=note.strip(), resolves=key)
        return db.insert_resolution(w, key, ctx.user.id, note.strip(), adjustment)


METHODS = WASTE_METHODS


@dataclass(frozen=True)
class BoardData:
    """What the Controlled substances board and the reports show, gathered at once."""

    picture: StockPicture
    lots: list[Lot]
    movements: list[Movement]
    counts: list[StockCount]
    as_of: datetime

    def lot(self, lot_id: int | None) -> Lot | None:
        return next((lot for lot in self.lots if lot.id == lot_id), None)

    def lot_movements(self, lot_id: int) -> list[Movement]:
        """Every movement of the lot, plus the remainder wastes of the sessions that drew
        from it (those name the session, not one lot)."""
        sessions = {m.session_id for m in self.movements
                    if m.lot_id == lot_id and m.kind is MovementKind.DRAW}
        return [m for m in self.movements if m.lot_id == lot_id or (
            m.lot_id is None and m.session_id in sessions)]


@service_boundary
def board_data(ctx: Context) -> BoardData:
    ctx.require(*RESOLVERS, action="open the Controlled substances board")
    return gather(ctx.store, ctx.clock.now())


@service_boundary
def count_sheet(ctx: Context) -> BoardData:
    """What a count screen needs (any role may count: nurses count at the close)."""
    ctx.require(*EVERYONE, action="count controlled substances")
    return gather(ctx.store, ctx.clock.now())


@service_boundary
def gather(store: Store, now: datetime) -> BoardData:
    return BoardData(picture(store, now), db.lots(store), db.movements(store),
                     db.counts(store), now)
