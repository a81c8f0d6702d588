"""The daily reconciliation of the controlled-substance record and the report it goes
into: per clinic day the opening balance, what came in and went out, the closing
balance, and the sessions of that day with what was given and wasted. Pure."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from ketalog.domain.audit_head import AuditHead
from ketalog.domain.stock import (
    Discrepancy,
    Lot,
    LotBalance,
    Movement,
    MovementKind,
    SessionAccount,
    StockCount,
)


@dataclass(frozen=True)
class DayLine:
    """One clinic day of the daily reconciliation, all lots together, in mg."""

    day: date
    opening_mg: float
    received_mg: float
    drawn_mg: float
    returned_mg: float
    wasted_from_stock_mg: float
    adjusted_mg: float
    closing_mg: float
    sessions: tuple[SessionAccount, ...]

    @property
    def given_mg(self) -> float:
        return math.fsum(a.use.given_mg for a in self.sessions)

    @property
    def session_waste_mg(self) -> float:
        return math.fsum(a.wasted_mg for a in self.sessions)

    @property
    def unaccounted_mg(self) -> float:
        """Finished sessions only: a running infusion has not used its bag yet."""
        return math.fsum(a.difference_mg for a in self.sessions if a.use.finished)


def local_day(when: datetime, tz: tzinfo | None) -> date:
    return when.astimezone(tz).date()


def daily_reconciliation(movements: Sequence[Movement], accounts: Mapping[int, SessionAccount],
                         first: date, last: date, tz: tzinfo | None = None) -> list[DayLine]:
    """Opening, movements and closing per clinic day from `first` to `last`; each
    session belongs to the day of its first draw."""
    if last < first:
        return []
    ordered = sorted(movements, key=lambda m: m.at)
    opening = math.fsum(m.stock_effect_mg for m in ordered
                        if m.lot_id is not None and local_day(m.at, tz) < first)
    by_day: dict[date, list[Movement]] = {}
    for m in ordered:
        by_day.setdefault(local_day(m.at, tz), []).append(m)
    session_day: dict[int, date] = {}
    for acc in accounts.values():
        if acc.draws:
            session_day[acc.use.session_id] = min(local_day(d.at, tz) for d in acc.draws)
    lines: list[DayLine] = []
    day = first
    while day <= last:
        ms = [m for m in by_day.get(day, []) if m.lot_id is not None]

        def total(kind: MovementKind, ms: list[Movement] = ms, stock_only: bool = False
                  ) -> float:
            return math.fsum(m.amount_mg for m in ms if m.kind is kind
                             and (not stock_only or m.session_id is None))

        effect = math.fsum(m.stock_effect_mg for m in ms)
        sessions = tuple(accounts[s] for s, d in sorted(session_day.items()) if d == day)
        closing = opening + effect
        lines.append(DayLine(day, opening, total(MovementKind.RECEIVE),
                             total(MovementKind.DRAW), total(MovementKind.RETURN),
                             total(MovementKind.WASTE, stock_only=True),
                             total(MovementKind.ADJUSTMENT), closing, sessions))
        opening = closing
        day += timedelta(days=1)
    return lines


@dataclass(frozen=True)
class StockReport:
    """What the stock PDF and CSV print, gathered by the service for a date range."""

    clinic: str
    since: date
    until: date
    printed_at: datetime
    printed_by: str
    lots: list[Lot]
    balances: dict[int, LotBalance]  # as of the end of the range
    movements: list[Movement]  # in the range
    days: list[DayLine]
    administrations: list[SessionAccount]
    counts: list[StockCount]
    discrepancies: list[Discrepancy]  # open now, and those resolved
    tolerance_mg: float
    content_hash: str
    paper: str = "A4"
    audit_head: AuditHead | None = None  # the chain's head when the report was gathered

    def lot(self, lot_id: int | None) -> Lot | None:
        return next((lot for lot in self.lots if lot.id == lot_id), None)

    @property
    def range_text(self) -> str:
        return (self.since.isoformat() if self.since == self.until
                else f"{self.since.isoformat()} to {self.until.isoformat()}")
