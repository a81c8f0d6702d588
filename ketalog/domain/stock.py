"""The controlled-substance record: lots, the movements of stock, balances per lot in
mg and containers, each session's drawn / given / wasted account, and the
discrepancies a clinic must look at. Pure: the service gathers, this decides.

Balance of a lot = received - drawn + returned - wasted from stock + adjustments.
A session's waste (the unused remainder of what was drawn for it) does not touch the
balance: what was drawn already left the stock. For a finished session,
drawn - returned = given + wasted within the clinic's tolerance, or it is a discrepancy.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

EPS_MG = 1e-6  # float noise, far below any measurable amount
DEFAULT_TOLERANCE_MG = 0.5
WASTE_METHODS: tuple[str, ...] = (
    "drug disposal container", "sink/sewer (where permitted)", "absorbent pouch",
    "returned to pharmacy/reverse distributor", "other (see note)",
)


class MovementKind(StrEnum):
    RECEIVE = "receive"
    DRAW = "draw"
    RETURN = "return"
    WASTE = "waste"
    ADJUSTMENT = "adjustment"


class DiscrepancyKind(StrEnum):
    NO_WASTE = "no_waste"  # a session finished with ketamine drawn and no waste record
    WASTE_MISMATCH = "waste_mismatch"  # drawn - returned != given + wasted (beyond tolerance)
    NO_DRAW = "no_draw"  # ketamine given in a session with no draw record
    NEGATIVE_BALANCE = "negative_balance"
    EXPIRED_ON_HAND = "expired_on_hand"
    COUNT_DIFFERENCE = "count_difference"


@dataclass(frozen=True)
class Lot:
    id: int
    location_id: int
    product: str
    strength_mg_per_ml: float
    container_ml: float
    lot_number: str
    expiry: date
    recalled: bool = False
    recall_reason: str = ""
    location: str = ""

    @property
    def container_mg(self) -> float:
        return self.strength_mg_per_ml * self.container_ml

    @property
    def label(self) -> str:
        return (f"{self.product} {self.strength_mg_per_ml:g} mg/mL × {self.container_ml:g} mL, "
                f"lot {self.lot_number}")

    def expired_on(self, day: date) -> bool:
        """Usable through its expiry date; expired the day after."""
        return day > self.expiry


@dataclass(frozen=True)
class Movement:
    """One line of the ledger. `amount_mg` is positive for every kind except an
    adjustment, whose sign says which way the balance moved. A waste with a session is
    that session's remainder (lot may be None); without one it is stock destroyed."""

    id: int
    kind: MovementKind
    at: datetime
    amount_mg: float
    user: str
    lot_id: int | None = None
    session_id: int | None = None
    witness: str = ""
    witness_at: datetime | None = None
    method: str = ""
    reason: str = ""
    supplier: str = ""
    invoice: str = ""
    containers: float | None = None
    resolves: str = ""

    @property
    def stock_effect_mg(self) -> float:
        """What this movement does to its lot's balance."""
        if self.kind is MovementKind.RECEIVE or self.kind is MovementKind.RETURN:
            return self.amount_mg
        if self.kind is MovementKind.DRAW:
            return -self.amount_mg
        if self.kind is MovementKind.WASTE:
            return 0.0 if self.session_id is not None else -self.amount_mg
        return self.amount_mg  # adjustment, signed


@dataclass(frozen=True)
class LotBalance:
    lot: Lot
    received_mg: float
    drawn_mg: float
    returned_mg: float
    wasted_from_stock_mg: float
    adjusted_mg: float
    balance_mg: float

    @property
    def containers(self) -> float:
        """Balance in containers (fractional for an opened one)."""
        return self.balance_mg / self.lot.container_mg if self.lot.container_mg else 0.0

    @property
    def negative(self) -> bool:
        return self.balance_mg < -EPS_MG


def containers_text(balance: LotBalance) -> str:
    """'12 full + 0.4' style: what a counter sees on the shelf."""
    full = math.floor(balance.containers + EPS_MG) if balance.balance_mg > 0 else 0
    rest = balance.balance_mg - full * balance.lot.container_mg
    if balance.balance_mg < -EPS_MG:
        return f"{balance.containers:.2f} (negative)"
    if abs(rest) <= EPS_MG:
        return f"{full}"
    return f"{full} + {rest / balance.lot.container_mg:.2f} open"


def lot_balances(lots: Iterable[Lot], movements: Iterable[Movement]) -> dict[int, LotBalance]:
    """Each lot's running total from its movements (math.fsum: no drift over years)."""
    parts: dict[int, dict[MovementKind | str, list[float]]] = {}
    lots = list(lots)
    for lot in lots:
        parts[lot.id] = {k: [] for k in (*MovementKind, "stock_waste")}
    for m in movements:
        if m.lot_id is None or m.lot_id not in parts:
            continue
        if m.kind is MovementKind.WASTE:
            if m.session_id is None:
                parts[m.lot_id]["stock_waste"].append(m.amount_mg)
            continue
        parts[m.lot_id][m.kind].append(m.amount_mg)
    result: dict[int, LotBalance] = {}
    for lot in lots:
        p = parts[lot.id]
        received, drawn = math.fsum(p[MovementKind.RECEIVE]), math.fsum(p[MovementKind.DRAW])
        returned, wasted = math.fsum(p[MovementKind.RETURN]), math.fsum(p["stock_waste"])
        adjusted = math.fsum(p[MovementKind.ADJUSTMENT])
        balance = math.fsum([received, -drawn, returned, -wasted, adjusted])
        result[lot.id] = LotBalance(lot, received, drawn, returned, wasted, adjusted, balance)
    return result


def balance_before(lot_id: int, movements: Iterable[Movement], at: datetime) -> float:
    """A lot's balance from the movements strictly before `at` (opening figures)."""
    return math.fsum(m.stock_effect_mg for m in movements if m.lot_id == lot_id and m.at < at)


@dataclass(frozen=True)
class SessionUse:
    """What the service knows of a session: its status and the dose-timeline total."""

    session_id: int
    status: str  # draft | in_progress | completed | signed
    given_mg: float
    patient: str = ""  # "FAMILY, Given"
    mrn: str = ""
    began_at: datetime | None = None
    nurse: str = ""

    @property
    def finished(self) -> bool:
        return self.status in ("completed", "signed")


@dataclass(frozen=True)
class SessionAccount:
    use: SessionUse
    drawn_mg: float
    returned_mg: float
    wasted_mg: float
    wastes: tuple[Movement, ...]
    draws: tuple[Movement, ...]

    @property
    def net_drawn_mg(self) -> float:
        return self.drawn_mg - self.returned_mg

    @property
    def expected_waste_mg(self) -> float:
        """What should be left over: drawn - returned - given (never below 0)."""
        return max(0.0, self.net_drawn_mg - self.use.given_mg)

    @property
    def difference_mg(self) -> float:
        """drawn - returned - given - wasted: 0 when every mg is accounted for."""
        return math.fsum([self.drawn_mg, -self.returned_mg, -self.use.given_mg,
                          -self.wasted_mg])

    def balanced(self, tolerance_mg: float) -> bool:
        return abs(self.difference_mg) <= tolerance_mg + EPS_MG


def session_accounts(uses: Iterable[SessionUse], movements: Iterable[Movement]
                     ) -> dict[int, SessionAccount]:
    by_session: dict[int, list[Movement]] = {}
    for m in movements:
        if m.session_id is not None:
            by_session.setdefault(m.session_id, []).append(m)
    accounts: dict[int, SessionAccount] = {}
    for use in uses:
        ms = by_session.get(use.session_id, [])
        draws = tuple(m for m in ms if m.kind is MovementKind.DRAW)
        wastes = tuple(m for m in ms if m.kind is MovementKind.WASTE)
        accounts[use.session_id] = SessionAccount(
            use, math.fsum(m.amount_mg for m in draws),
            math.fsum(m.amount_mg for m in ms if m.kind is MovementKind.RETURN),
            math.fsum(m.amount_mg for m in wastes), wastes, draws)
    return accounts


@dataclass(frozen=True)
class CountLine:
    id: int
    lot_id: int
    expected_mg: float
    counted_mg: float
    explanation: str = ""

    @property
    def difference_mg(self) -> float:
        return self.counted_mg - self.expected_mg


@dataclass(frozen=True)
class StockCount:
    id: int
    location_id: int
    at: datetime
    business: str  # "opening" | "close" (21 CFR 1304.11 asks which)
    counted_by: str
    second_counter: str = ""
    note: str = ""
    lines: tuple[CountLine, ...] = ()
    location: str = ""


@dataclass(frozen=True)
class Resolution:
    key: str
    at: datetime
    by: str
    note: str
    adjustment_id: int | None = None


@dataclass(frozen=True)
class Discrepancy:
    """Something the record does not account for. `key` is stable ("no_waste:12") so a
    resolution names exactly what it closes; `ref` is the session, lot or count line."""

    kind: DiscrepancyKind
    key: str
    text: str
    ref: int
    lot_id: int | None = None
    session_id: int | None = None
    count_id: int | None = None
    amount_mg: float = 0.0
    resolution: Resolution | None = None

    @property
    def open(self) -> bool:
        return self.resolution is None


def discrepancy_key(kind: DiscrepancyKind, ref: int) -> str:
    return f"{kind.value}:{ref}"


@dataclass(frozen=True)
class StockPicture:
    """Everything the board, the reports and the checks read, decided once."""

    balances: dict[int, LotBalance]
    accounts: dict[int, SessionAccount]
    discrepancies: list[Discrepancy] = field(default_factory=list)

    @property
    def open_discrepancies(self) -> list[Discrepancy]:
        return [d for d in self.discrepancies if d.open]


def find_discrepancies(lots: Sequence[Lot], movements: Sequence[Movement],
                       uses: Sequence[SessionUse], counts: Sequence[StockCount],
                       resolutions: Iterable[Resolution], today: date,
                       tolerance_mg: float = DEFAULT_TOLERANCE_MG,
                       tracking_since: datetime | None = None) -> StockPicture:
    """Balances, session accounts and every discrepancy, each with its resolution if a
    provider or admin has resolved it. `tracking_since` (the first receipt) keeps
    sessions from before the stock was recorded out of the no-draw check."""
    resolved: Mapping[str, Resolution] = {r.key: r for r in resolutions}
    balances = lot_balances(lots, movements)
    accounts = session_accounts(uses, movements)
    found: list[Discrepancy] = []

    def add(kind: DiscrepancyKind, ref: int, text: str, *, lot_id: int | None = None,
            session_id: int | None = None, count_id: int | None = None,
            amount_mg: float = 0.0) -> None:
        key = discrepancy_key(kind, ref)
        found.append(Discrepancy(kind, key, text, ref, lot_id=lot_id, session_id=session_id,
                                 count_id=count_id, amount_mg=amount_mg,
                                 resolution=resolved.get(key)))

    for sid, acc in sorted(accounts.items()):
        if not acc.use.finished:
            continue
        who = f"{acc.use.patient} (MRN {acc.use.mrn})" if acc.use.mrn else f"session {sid}"
        if acc.balanced(tolerance_mg):
            continue
        if acc.draws and not acc.wastes:
            add(DiscrepancyKind.NO_WASTE, sid,
                f"Session {sid}, {who}: completed with {acc.net_drawn_mg:.1f} mg drawn, "
                f"{acc.use.given_mg:.1f} mg given and no waste recorded "
                f"({acc.difference_mg:+.1f} mg unaccounted)",
                session_id=sid, amount_mg=acc.difference_mg)
        elif acc.draws or acc.wastes or acc.returned_mg:
            add(DiscrepancyKind.WASTE_MISMATCH, sid,
                f"Session {sid}, {who}: drawn {acc.net_drawn_mg:.1f} mg, given "
                f"{acc.use.given_mg:.1f} mg, wasted {acc.wasted_mg:.1f} mg: "
                f"{acc.difference_mg:+.1f} mg beyond the {tolerance_mg:g} mg tolerance",
                session_id=sid, amount_mg=acc.difference_mg)
        elif tracking_since is not None and acc.use.began_at is not None \
                and acc.use.began_at >= tracking_since:
            add(DiscrepancyKind.NO_DRAW, sid,
                f"Session {sid}, {who}: {acc.use.given_mg:.1f} mg given with no draw "
                "from stock recorded", session_id=sid, amount_mg=acc.use.given_mg)
    for lot_id, bal in sorted(balances.items()):
        if bal.negative:
            add(DiscrepancyKind.NEGATIVE_BALANCE, lot_id,
                f"{bal.lot.label}: balance {bal.balance_mg:.1f} mg is below zero",
                lot_id=lot_id, amount_mg=bal.balance_mg)
        if bal.lot.expired_on(today) and bal.balance_mg > EPS_MG:
            add(DiscrepancyKind.EXPIRED_ON_HAND, lot_id,
                f"{bal.lot.label}: expired {bal.lot.expiry.isoformat()} with "
                f"{bal.balance_mg:.1f} mg still on hand (waste it, witnessed)",
                lot_id=lot_id, amount_mg=bal.balance_mg)
    lot_by_id = {lot.id: lot for lot in lots}
    for count in counts:
        for line in count.lines:
            if abs(line.difference_mg) > EPS_MG:
                lot = lot_by_id.get(line.lot_id)
                add(DiscrepancyKind.COUNT_DIFFERENCE, line.id,
                    f"Count of {count.at.astimezone():%Y-%m-%d %H:%M} by {count.counted_by}"
                    f"{' and ' + count.second_counter if count.second_counter else ''}: "
                    f"{lot.label if lot else f'lot {line.lot_id}'} counted "
                    f"{line.counted_mg:.1f} mg, expected {line.expected_mg:.1f} mg "
                    f"({line.difference_mg:+.1f} mg): {line.explanation or 'no explanation'}",
                    lot_id=line.lot_id, count_id=count.id, amount_mg=line.difference_mg)
    return StockPicture(balances, accounts, found)


def check_draw(lot: Lot, balance_mg: float, amount_mg: float, today: date) -> str | None:
    """Why this draw must be refused, or None. Expired, recalled and overdrawn lots are
    refused: a dispensing record cannot show ketamine that was not there."""
    if amount_mg <= 0:
        return "the amount drawn must be more than 0 mg"
    if lot.recalled:
        return f"lot {lot.lot_number} is recalled ({lot.recall_reason or 'no reason given'})"
    if lot.expired_on(today):
        return f"lot {lot.lot_number} expired on {lot.expiry.isoformat()}"
    if amount_mg > balance_mg + EPS_MG:
        return (f"lot {lot.lot_number} holds {max(balance_mg, 0):.1f} mg; {amount_mg:.1f} mg "
                "cannot be drawn (count the stock if the record is wrong)")
    return None
