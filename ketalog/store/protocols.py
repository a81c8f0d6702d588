"""Protocols in the store: the one module that names their table and orders them.
Reads return domain `Protocol`s; writes go through the caller's audited `Writer`."""

from __future__ import annotations

from collections.abc import Mapping

from ketalog.domain.entities import Protocol
from ketalog.store.records import protocol_from_row
from ketalog.store.store import Store, Writer

TABLE = "protocols"


def protocol(store: Store, protocol_id: int) -> Protocol | None:
    row = store.get(TABLE, protocol_id)
    return None if row is None else protocol_from_row(row)


def any_protocol(store: Store) -> bool:
    return store.count(TABLE) > 0


def protocols_by_name(store: Store, include_retired: bool = False) -> list[Protocol]:
    """By name (the order every list of protocols shows them in)."""
    found = [protocol_from_row(r) for r in store.rows(TABLE, order_by="name")]
    return [p for p in found if include_retired or not p.retired]


def protocols_by_age(store: Store) -> list[Protocol]:
    """Oldest first (the seeded ones lead)."""
    return [protocol_from_row(r) for r in store.rows(TABLE, order_by="id")]


def insert_protocol(w: Writer, values: Mapping[str, object]) -> int:
    return w.insert(TABLE, values)


def update_protocol(w: Writer, protocol_id: int, changes: Mapping[str, object],
                    reason: str = "", expected: Mapping[str, object] | None = None) -> None:
    """`expected`: the values the editing screen started from (edit_conflicts.py)."""
    w.update(TABLE, protocol_id, changes, reason=reason, expected=expected)
