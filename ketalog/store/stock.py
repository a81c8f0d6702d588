"""The controlled-substance tables: typed reads and writes, rows turned into domain
objects here so no table name or column leaves the store."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from ketalog.domain.clock import from_iso, to_iso
from ketalog.domain.stock import (
    CountLine,
    Lot,
    Movement,
    MovementKind,
    Resolution,
    StockCount,
)
from ketalog.store.store import Store, Writer
from ketalog.store.values import as_flag, as_float, as_int, as_text, opt_int


def user_names(store: Store) -> dict[int, str]:
    """How people appear in the ledger: "Nina Nurse, RN (nina)"."""
    return {int(r[0]): f"{r[2]}{', ' + str(r[3]) if r[3] else ''} ({r[1]})"
            for r in store.conn.execute("SELECT id, username, display_name, credentials "
                                        "FROM users")}


# -- locations ---------------------------------------------------------------
def locations(store: Store) -> list[tuple[int, str]]:
    return [(int(r[0]), str(r[1])) for r in store.conn.execute(
        f"SELECT id, name FROM stock_locations ORDER BY {store.engine.nocase('name')}")]


def insert_location(w: Writer, name: str) -> int:
    return w.insert("stock_locations", {"name": name, "created_at": w.now})


def location_by_name(store: Store, name: str) -> int | None:
    row = store.conn.execute(
        f"SELECT id FROM stock_locations WHERE {store.engine.nocase('name')} = ?",
        [name.strip()]).fetchone()
    return None if row is None else int(row[0])


# -- lots --------------------------------------------------------------------
def _lot(row: Sequence[object]) -> Lot:
    return Lot(as_int(row[0]), as_int(row[1]), as_text(row[2]), as_float(row[3]),
               as_float(row[4]), as_text(row[5]), date.fromisoformat(as_text(row[6])),
               as_flag(row[7]), as_text(row[8]), as_text(row[9]))


_LOT_SQL = ("SELECT l.id, l.location_id, l.product, l.strength_mg_per_ml, l.container_ml, "
            "l.lot_number, l.expiry, l.recalled, l.recall_reason, c.name "
            "FROM stock_lots l JOIN stock_locations c ON c.id = l.location_id")


def lots(store: Store) -> list[Lot]:
    return [_lot(r) for r in store.conn.execute(
        _LOT_SQL + f" ORDER BY {store.engine.nocase('c.name')}, l.expiry, l.lot_number, l.id")]


def lot(store: Store, lot_id: int) -> Lot | None:
    row = store.conn.execute(_LOT_SQL + " WHERE l.id = ?", [lot_id]).fetchone()
    return None if row is None else _lot(row)


def find_lot(store: Store, location_id: int, product: str, strength_mg_per_ml: float,
             container_ml: float, lot_number: str) -> Lot | None:
    row = store.conn.execute(
        _LOT_SQL + " WHERE l.location_id = ? AND l.product = ? AND l.strength_mg_per_ml = ? "
        "AND l.container_ml = ? AND l.lot_number = ?",
        [location_id, product, strength_mg_per_ml, container_ml, lot_number]).fetchone()
    return None if row is None else _lot(row)


def insert_lot(w: Writer, location_id: int, product: str, strength_mg_per_ml: float,
               container_ml: float, lot_number: str, expiry: date) -> int:
    return w.insert("stock_lots", {
        "location_id": location_id, "product": product,
        "strength_mg_per_ml": strength_mg_per_ml, "container_ml": container_ml,
        "lot_number": lot_number, "expiry": expiry.isoformat(), "created_at": w.now})


def recall_lot(w: Writer, lot_id: int, reason: str) -> None:
    w.update("stock_lots", lot_id, {"recalled": 1, "recall_reason": reason}, reason=reason)


def lot_uuid(store: Store, lot_id: int) -> str:
    row = store.conn.execute("SELECT uuid FROM stock_lots WHERE id = ?", [lot_id]).fetchone()
    return "" if row is None else str(row[0])


# -- movements ---------------------------------------------------------------
_MOVE_COLS = ("id, kind, at, amount_mg, user_id, lot_id, session_id, witness_id, witness_at, "
              "method, reason, supplier, invoice, containers, resolves")


def _movements(store: Store, where: str = "", params: Sequence[object] = ()) -> list[Movement]:
    names = user_names(store)
    out = []
    for r in store.conn.execute(f"SELECT {_MOVE_COLS} FROM stock_movements{where} "
                                "ORDER BY at, id", list(params)):
        out.append(Movement(
            int(r[0]), MovementKind(r[1]), from_iso(r[2]), float(r[3]),
            names.get(int(r[4]), "?"), None if r[5] is None else int(r[5]),
            None if r[6] is None else int(r[6]),
            "" if r[7] is None else names.get(int(r[7]), "?"),
            None if r[8] is None else from_iso(r[8]), str(r[9]), str(r[10]), str(r[11]),
            str(r[12]), None if r[13] is None else float(r[13]), str(r[14])))
    return out


def movements(store: Store) -> list[Movement]:
    return _movements(store)


def session_movements(store: Store, session_id: int) -> list[Movement]:
    return _movements(store, " WHERE session_id = ?", [session_id])


def insert_movement(w: Writer, kind: MovementKind, *, amount_mg: float, at: datetime,
                    user_id: int | None, lot_id: int | None = None,
                    session_id: int | None = None, witness_id: int | None = None,
                    witness_at: datetime | None = None, method: str = "", reason: str = "",
                    supplier: str = "", invoice: str = "", containers: float | None = None,
                    volume_ml: float | None = None, resolves: str = "") -> int:
    return w.insert("stock_movements", {
        "kind": kind.value, "lot_id": lot_id, "session_id": session_id, "at": to_iso(at),
        "amount_mg": amount_mg, "containers": containers, "volume_ml": volume_ml,
        "supplier": supplier, "invoice": invoice, "method": method, "reason": reason,
        "resolves": resolves, "user_id": user_id, "witness_id": witness_id,
        "witness_at": None if witness_at is None else to_iso(witness_at),
        "entered_at": w.now}, reason=reason)


def movement_uuid(store: Store, movement_id: int) -> str:
    row = store.conn.execute("SELECT uuid FROM stock_movements WHERE id = ?",
                             [movement_id]).fetchone()
    return "" if row is None else str(row[0])


def first_receipt_at(store: Store) -> datetime | None:
    row = store.conn.execute(
        "SELECT min(at) FROM stock_movements WHERE kind = 'receive'").fetchone()
    return None if row is None or row[0] is None else from_iso(row[0])


# -- sessions the stock record concerns -------------------------------------
@dataclass(frozen=True)
class StockSession:
    """A session as the stock picture sees it: whose, when begun, by which nurse."""

    id: int
    status: str
    weight_kg: float
    began: str  # ISO: the infusion start, else the session's creation
    nurse_id: int | None
    mrn: str
    family_name: str
    given_name: str
    birth_date: str


def stock_sessions(store: Store, since: datetime | None) -> list[StockSession]:
    """Sessions with a stock movement, and every session begun since `since` (the first
    receipt): id, status, weight, began, nurse, patient identifiers; by began, then id."""
    sql = ("SELECT s.id, s.status, s.weight_kg, coalesce(s.infusion_start_at, s.created_at) "
           "AS began, s.nurse_id, p.mrn, p.family_name, p.given_name, p.birth_date "
           "FROM sessions s JOIN patients p ON p.id = s.patient_id WHERE s.id IN "
           "(SELECT session_id FROM stock_movements WHERE session_id IS NOT NULL)")
    params: list[object] = []
    if since is not None:
        sql += " OR coalesce(s.infusion_start_at, s.created_at) >= ?"
        params.append(to_iso(since))
    return [StockSession(as_int(r[0]), as_text(r[1]), as_float(r[2]), as_text(r[3]),
                         opt_int(r[4]), as_text(r[5]), as_text(r[6]), as_text(r[7]),
                         as_text(r[8]))
            for r in store.conn.execute(sql + " ORDER BY began, s.id", params)]


def update_session_bag(w: Writer, session_id: int, *, drug: str, concentration_mg_per_ml: float,
                       volume_ml: float, lot_text: str, expiry: date | None) -> None:
    """The bag as drawn: its mg and volume come from the stock record."""
    w.update("sessions", session_id, {
        "bag_drug": drug, "bag_concentration_mg_per_ml": concentration_mg_per_ml,
        "bag_volume_ml": volume_ml, "bag_lot": lot_text,
        "bag_expiry": None if expiry is None else expiry.isoformat()},
        reason="bag prepared from stock")


# -- counts ------------------------------------------------------------------
def insert_count(w: Writer, location_id: int, at: datetime, business: str, counted_by: int,
                 second_counter_id: int | None, note: str,
                 lines: Iterable[tuple[int, float, float, str]]) -> int:
    count_id = w.insert("stock_counts", {
        "location_id": location_id, "at": to_iso(at), "business": business,
        "counted_by": counted_by, "second_counter_id": second_counter_id, "note": note,
        "entered_at": w.now})
    for lot_id, expected, counted, explanation in lines:
        w.insert("stock_count_lines", {"count_id": count_id, "lot_id": lot_id,
                                       "expected_mg": expected, "counted_mg": counted,
                                       "explanation": explanation})
    return count_id


def counts(store: Store) -> list[StockCount]:
    names = user_names(store)
    lines: dict[int, list[CountLine]] = {}
    for r in store.conn.execute("SELECT id, count_id, lot_id, expected_mg, counted_mg, "
                                "explanation FROM stock_count_lines ORDER BY id"):
        lines.setdefault(int(r[1]), []).append(
            CountLine(int(r[0]), int(r[2]), float(r[3]), float(r[4]), str(r[5])))
    out = []
    for r in store.conn.execute(
            "SELECT k.id, k.location_id, k.at, k.business, k.counted_by, k.second_counter_id, "
            "k.note, c.name FROM stock_counts k JOIN stock_locations c ON c.id = k.location_id "
            "ORDER BY k.at, k.id"):
        out.append(StockCount(int(r[0]), int(r[1]), from_iso(r[2]), str(r[3]),
                              names.get(int(r[4]), "?"),
                              "" if r[5] is None else names.get(int(r[5]), "?"), str(r[6]),
                              tuple(lines.get(int(r[0]), ())), str(r[7])))
    return out


def count_line_uuid(store: Store, line_id: int) -> str:
    row = store.conn.execute("SELECT uuid FROM stock_count_lines WHERE id = ?",
                             [line_id]).fetchone()
    return "" if row is None else str(row[0])


# -- resolutions -------------------------------------------------------------
def resolutions(store: Store) -> list[Resolution]:
    names = user_names(store)
    return [Resolution(str(r[0]), from_iso(r[1]), names.get(int(r[2]), "?"), str(r[3]),
                       None if r[4] is None else int(r[4]))
            for r in store.conn.execute("SELECT discrepancy, at, user_id, note, adjustment_id "
                                        "FROM stock_resolutions ORDER BY id")]


def insert_resolution(w: Writer, key: str, user_id: int | None, note: str,
                      adjustment_id: int | None) -> int:
    return w.insert("stock_resolutions", {"discrepancy": key, "at": w.now, "user_id": user_id,
                                          "note": note, "adjustment_id": adjustment_id},
                    reason=note)
