"""The clinic's coded indications in the store: the one module that names their table and
orders them. Reads return domain `Indication`s; writes go through the caller's audited
`Writer`."""

from __future__ import annotations

from collections.abc import Mapping

from ketalog.domain.indications import Category, Indication
from ketalog.store.store import Store, Writer
from ketalog.store.values import as_flag, as_int, as_text, opt_int

TABLE = "indications"


def _indication(row: Mapping[str, object]) -> Indication:
    return Indication(as_int(row["id"]), as_text(row["name"]), Category(as_text(row["category"])),
                      opt_int(row["default_protocol_id"]), as_flag(row["retired"]))


def indications(store: Store, include_retired: bool = False) -> list[Indication]:
    """By category, then name (case-insensitive: the column's collation)."""
    found = [_indication(r) for r in store.rows(TABLE, order_by="category, name")]
    return [i for i in found if include_retired or not i.retired]


def indication(store: Store, indication_id: int) -> Indication | None:
    row = store.get(TABLE, indication_id)
    return None if row is None else _indication(row)


def indication_named(store: Store, name: str) -> Indication | None:
    """The indication of that name, whatever its case (the column compares NOCASE)."""
    row = store.get_by(TABLE, name=name)
    return None if row is None else _indication(row)


def insert_indication(w: Writer, name: str, category: Category,
                      default_protocol_id: int | None, created_at: str) -> int:
    return w.insert(TABLE, {"name": name, "category": category.value,
                            "default_protocol_id": default_protocol_id,
                            "created_at": created_at})


def set_default_protocol(w: Writer, indication_id: int, protocol_id: int | None) -> None:
    w.update(TABLE, indication_id, {"default_protocol_id": protocol_id})
