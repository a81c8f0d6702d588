"""Protocol templates, typed: the table name and its listing order live here only. Writes
go through the caller's audited Writer, so every change keeps its audit entry."""

from __future__ import annotations

from collections.abc import Mapping

from ketalog.domain.entities import Protocol
from ketalog.store.records import protocol_from_row
from ketalog.store.store import Store, Writer

TABLE = "protocols"


def get(store: Store, protocol_id: int) -> Protocol | None:
    """One protocol, retired or not, or None when there is no row with that id."""
    row = store.get(TABLE, protocol_id)
    return None if row is None else protocol_from_row(row)


def by_name(store: Store) -> list[Protocol]:
    """Every protocol, retired ones included, by name (the admin list and pickers)."""
    return [protocol_from_row(r) for r in store.rows(TABLE, order_by="name")]


def by_id(store: Store) -> list[Protocol]:
    """Every protocol in the order it was created."""
    return [protocol_from_row(r) for r in store.rows(TABLE, order_by="id")]


def count(store: Store) -> int:
    return store.count(TABLE)


def insert(w: Writer, values: Mapping[str, object]) -> int:
    """Store one validated protocol (audited by the writer); returns its id."""
    return w.insert(TABLE, values)


def update(w: Writer, protocol_id: int, values: Mapping[str, object], reason: str = "") -> None:
    """Change a protocol in place (audited with the reason)."""
    w.update(TABLE, protocol_id, values, reason=reason)


def retire(w: Writer, protocol_id: int, reason: str = "") -> None:
    """Retire a protocol (audited with the reason); its sessions keep showing it."""
    w.update(TABLE, protocol_id, {"retired": 1}, reason=reason)
