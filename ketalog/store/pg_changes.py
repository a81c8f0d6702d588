"""Change notifications on the clinic server: every committed write tells the other
workstations what it touched, so their open screens follow within a second.

Sending: the store keeps what each write transaction touched beside its audit entries
(touched.py), and the server engine sends one `pg_notify(CHANNEL, payload)` describing
it in the same round trip as the COMMIT.
PostgreSQL delivers a notification only when its transaction commits, so a rolled-back
write tells nobody. The payload is JSON, grouped per table, action, session and patient
(one row uuid when a group holds one row), and coalesced further when it would pass the
server's 8000-byte limit:

    {"v": 1, "by": "nurse1", "ws": "ketalog ws-3",
     "c": [["vitals", "insert", "<uuid>", 12, 4, 1], ...]}   # table, action, row, session, patient, rows
    {"v": 1, "by": ..., "ws": ..., "c": [], "all": true}     # too much to say: reload everything

Listening: a `ChangeFeed` holds a LISTEN connection of its own (the store's connection
belongs to its reads and writes) and hands over what arrived as `Change`s; its socket can
be watched by an event loop (`fileno`), and `take()` never blocks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg

from ketalog.store.changes import Change
from ketalog.store.errors import StoreError
from ketalog.store.store import Store
from ketalog.store.touched import Touched

__all__ = ["CHANNEL", "Change", "ChangeFeed", "open_feed", "payload"]

CHANNEL = "ketalog_changes"
MAX_PAYLOAD = 7900  # PostgreSQL refuses a payload of 8000 bytes or more
PAYLOAD_VERSION = 1


def _ref(value: object) -> int | None:
    return int(str(value)) if value is not None and str(value).isdigit() else None


def _grouped(touched: Sequence[Touched]) -> list[tuple[str, str, int | None, int | None,
                                                       int, str]]:
    """(table, action, session, patient, rows, first row uuid) per group, in the order of
    each group's first row uuid."""
    groups: dict[tuple[str, str, int | None, int | None], list[str]] = {}
    for t in touched:
        groups.setdefault((t.table, t.action, t.session_id, t.patient_id), []).append(
            t.row_uuid)
    return sorted(((table, action, session, patient, len(uuids), min(uuids))
                   for (table, action, session, patient), uuids in groups.items()),
                  key=lambda g: g[5])


def payload(touched: Sequence[Touched], workstation: str) -> str | None:
    """The notification text for what a write touched, under the size limit (None when
    it touched nothing)."""
    if not touched:
        return None
    head = {"v": PAYLOAD_VERSION, "by": touched[0].by, "ws": workstation[:63]}
    items = [[table, action, first if count == 1 else None, session, patient, count]
             for table, action, session, patient, count, first in _grouped(touched)]
    text = json.dumps({**head, "c": items}, separators=(",", ":"))
    if len(text.encode()) <= MAX_PAYLOAD:
        return text
    per_table: dict[tuple[str, str], int] = {}
    for t in touched:
        per_table[(t.table, t.action)] = per_table.get((t.table, t.action), 0) + 1
    text = json.dumps({**head, "c": [[t, a, None, None, None, n]
                                     for (t, a), n in per_table.items()]},
                      separators=(",", ":"))
    if len(text.encode()) <= MAX_PAYLOAD:
        return text
    return json.dumps({**head, "c": [], "all": True}, separators=(",", ":"))


def changes_of(text: str, own: bool) -> list[Change]:
    """A notification's payload as Changes; a payload this version cannot read is one
    'reload everything' change rather than an error."""
    try:
        data = json.loads(text)
        by, workstation = str(data.get("by", "")), str(data.get("ws", ""))
        if data.get("all") or data.get("v") != PAYLOAD_VERSION:
            return [Change("", "", None, None, None, 0, by, workstation, own, everything=True)]
        return [Change(str(t), str(a), None if row is None else str(row), _ref(session),
                       _ref(patient), int(n), by, workstation, own)
                for t, a, row, session, patient, n in data["c"]]
    except (ValueError, TypeError, KeyError, AttributeError):
        return [Change("", "", None, None, None, 0, "", "", own, everything=True)]


def server_connection(store: Store) -> psycopg.Connection[Any] | None:
    """The store's own psycopg connection, or None for a store that is not on a server."""
    raw = getattr(store.engine.conn, "raw", None)
    return raw if isinstance(raw, psycopg.Connection) else None


class ChangeFeed:
    """A LISTEN connection of its own to the store's clinic database."""

    def __init__(self, conn: psycopg.Connection[Any], own_pid: int | None) -> None:
        self.conn = conn
        self.own_pid = own_pid  # the store's backend: its notifications are our own writes
        conn.execute(f"LISTEN {CHANNEL}")

    def fileno(self) -> int:
        """The connection's socket: readable when a notification (or anything) arrived."""
        return self.conn.fileno()

    def _changes(self, notifies: Iterator[psycopg.Notify]) -> list[Change]:
        found: list[Change] = []
        for n in notifies:
            if n.channel == CHANNEL:
                found += changes_of(n.payload, own=n.pid == self.own_pid)
        return found

    def take(self) -> list[Change]:
        """Everything that has arrived, without waiting."""
        try:
            return self._changes(self.conn.notifies(timeout=0.0))
        except psycopg.Error as exc:
            raise StoreError(f"the clinic server's change feed stopped: {exc}") from exc

    def wait(self, timeout_s: float) -> list[Change]:
        """The next notification (and whatever came with it), waiting up to `timeout_s`."""
        try:
            first = self._changes(self.conn.notifies(timeout=timeout_s, stop_after=1))
        except psycopg.Error as exc:
            raise StoreError(f"the clinic server's change feed stopped: {exc}") from exc
        return first + self.take() if first else first

    def close(self) -> None:
        self.conn.close()


def open_feed(store: Store) -> ChangeFeed | None:
    """A change feed beside `store`'s server connection (same server, database, login);
    None for a local file, whose changes are this workstation's own."""
    raw = server_connection(store)
    if raw is None:
        return None
    info = raw.info
    params: dict[str, Any] = dict(info.get_parameters())
    if info.password:
        params["password"] = info.password
    name = info.parameter_status("application_name") or "ketalog"
    params.update(connect_timeout=10, application_name=f"{name} (changes)"[:63])
    try:
        conn = psycopg.connect(autocommit=True, **params)
    except psycopg.Error as exc:
        raise StoreError(f"cannot listen for changes on {store.location}: "
                         f"{str(exc).strip()}") from exc
    return ChangeFeed(conn, info.backend_pid)
