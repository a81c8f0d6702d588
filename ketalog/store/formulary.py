"""The clinic's adjunct formulary in the store: the one module that names its table and
orders it. Reads return domain `FormularyEntry`s; writes go through the caller's audited
`Writer`."""

from __future__ import annotations

from collections.abc import Mapping

from ketalog.domain.formulary import FormularyEntry
from ketalog.store.store import Store, Writer
from ketalog.store.values import as_flag, as_int, as_text, opt_float

TABLE = "formulary"


def _entry(row: Mapping[str, object]) -> FormularyEntry:
    return FormularyEntry(as_text(row["drug"]), as_text(row["drug_class"]),
                          as_text(row["route"]), as_text(row["unit"]),
                          opt_float(row["dose_min"]), opt_float(row["dose_max"]),
                          as_text(row["source"]), as_int(row["id"]), as_text(row["uuid"]),
                          as_flag(row["retired"]))


def _columns(e: FormularyEntry) -> dict[str, object]:
    return {"drug": e.drug, "drug_class": e.drug_class, "route": e.route, "unit": e.unit,
            "dose_min": e.dose_min, "dose_max": e.dose_max, "source": e.source,
            "retired": int(e.retired)}


def entries(store: Store, include_retired: bool = False) -> list[FormularyEntry]:
    """By drug, then route (both case-insensitive: the columns' collation)."""
    found = [_entry(r) for r in store.rows(TABLE, order_by="drug, route")]
    return [e for e in found if include_retired or not e.retired]


def entry(store: Store, entry_id: int) -> FormularyEntry | None:
    row = store.get(TABLE, entry_id)
    return None if row is None else _entry(row)


def insert_entry(w: Writer, e: FormularyEntry, reason: str = "") -> int:
    """A new row from `e` (its id and uuid are ignored: the row gets its own)."""
    return w.insert(TABLE, _columns(e), reason=reason)


def update_entry(w: Writer, entry_id: int, e: FormularyEntry, reason: str = "") -> None:
    """Row `entry_id` takes `e`'s values; only what changed is written and audited."""
    w.update(TABLE, entry_id, _columns(e), reason=reason)
