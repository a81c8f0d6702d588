"""Entered in error, across the tables whose entries can be struck: which ones they are,
the state of one entry, and the strike itself (written through the caller's audited
Writer as an update with the reason). Rows are never deleted."""

from __future__ import annotations

from dataclasses import dataclass

from ketalog.store import adjunct_medications, doses, follow_ups, notes, scores, side_effects
from ketalog.store.errors import StoreError
from ketalog.store.store import Store, Writer
from ketalog.store.values import as_int, as_text

TABLES: frozenset[str] = frozenset({doses.TABLE, adjunct_medications.TABLE, side_effects.TABLE,
                                    scores.TABLE, notes.TABLE, follow_ups.TABLE})


@dataclass(frozen=True)
class StrikeTarget:
    """What a strike needs to know of an entry before it is made."""

    session_id: int
    struck_reason: str  # '' while the entry stands

    @property
    def struck(self) -> bool:
        return bool(self.struck_reason)


def _strikable(table: str) -> str:
    if table not in TABLES:
        raise StoreError(f"{table} entries cannot be marked entered in error")
    return table


def target(store: Store, table: str, entry_id: int) -> StrikeTarget | None:
    """The entry's session and strike state, or None when there is no row with that id."""
    row = store.get(_strikable(table), entry_id)
    if row is None:
        return None
    return StrikeTarget(as_int(row["session_id"]), as_text(row.get("struck_reason")))


def strike(w: Writer, table: str, entry_id: int, reason: str, at: str, by: int | None) -> None:
    """Strike the entry through: the reason, when and by whom (audited as an update, the
    reason as its reason)."""
    w.update(_strikable(table), entry_id, {"struck_reason": reason, "struck_at": at,
                                           "struck_by": by}, reason=reason)
