"""Signatures and addenda of a session, typed: the table names and their order live here
only. Writes go through the caller's audited Writer, so every change keeps its audit
entry (verify checks signed rows against that history)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ketalog.domain.entities import Addendum, Signature
from ketalog.store.records import addendum_from_row, signature_from_row
from ketalog.store.store import Store, Writer

SIGNATURES = "signatures"
ADDENDA = "addenda"
ORDER = "at, id"


def of_session(store: Store, session_id: int) -> list[Signature]:
    """A session's signatures in the order they were made (ties by id)."""
    return [signature_from_row(r)
            for r in store.rows(SIGNATURES, order_by=ORDER, session_id=session_id)]


def insert(w: Writer, values: Mapping[str, object]) -> int:
    """Store one signature row (audited by the writer); returns its id."""
    return w.insert(SIGNATURES, values)


def insert_many(w: Writer, rows: Iterable[Mapping[str, object]]) -> int:
    """Store many signature rows at once (the demo's bulk build); returns how many."""
    return w.insert_many(SIGNATURES, rows)


def addenda_of_session(store: Store, session_id: int) -> list[Addendum]:
    """A session's addenda in the order they were written (ties by id)."""
    return [addendum_from_row(r)
            for r in store.rows(ADDENDA, order_by=ORDER, session_id=session_id)]


def insert_addendum(w: Writer, values: Mapping[str, object]) -> int:
    """Store one addendum (audited by the writer); returns its id."""
    return w.insert(ADDENDA, values)
