"""What an audit entry about a read needs of the row that was read: its uuid and the
patient it belongs to (views of a record are audited, services/views.py)."""

from __future__ import annotations

from dataclasses import dataclass

from ketalog.store.errors import StoreError
from ketalog.store.store import Store
from ketalog.store.values import as_text, opt_int

VIEWABLE = frozenset({"patients", "sessions"})


@dataclass(frozen=True)
class RowRef:
    uuid: str
    patient_id: int | None


def row_ref(store: Store, table: str, row_id: int) -> RowRef | None:
    """The row's uuid and patient; None when there is no such row."""
    if table not in VIEWABLE:
        raise StoreError(f"views of {table} rows are not audited")
    row = store.get(table, row_id)
    if row is None:
        return None
    patient_id = row_id if table == "patients" else opt_int(row.get("patient_id"))
    return RowRef(as_text(row["uuid"]), patient_id)
