"""Change notifications on the clinic server: every committed write tells the other
workstations what it touched, so their open screens follow within a second.

Sending: the server engine marks the audit log's last entry when a write transaction
takes the write lock (with the chain head it reads then) and, just before COMMIT, sends one
`pg_notify(CHANNEL, payload)` describing the entries appended since (`notify_changes`).
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
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg import sql

from ketalog.store.changes import Change
from ketalog.store.errors import StoreError
from ketalog.store.store import Store

__all__ = ["CHANNEL", "Change", "ChangeFeed", "notify_changes", "open_feed"]

CHANNEL = "ketalog_changes"
MAX_PAYLOAD = 7900  # PostgreSQL refuses a payload of 8000 bytes or more
PAYLOAD_VERSION = 1

# The audit entries of this transaction, grouped. The session and patient a row belongs to
# are read from the entry's new values where it names them (an insert), from the row itself
# for sessions and patients (an update names only the changed columns); the values are
# text from a pattern, never cast, so no entry's content can make the commit fail.
_GROUPED = """
SELECT table_name, action, session_ref, patient_ref, count(*), min(row_uuid), max(username)
FROM (SELECT a.table_name, a.action, a.row_uuid, a.username,
             CASE WHEN a.table_name = 'sessions'
                  THEN coalesce(substring(a.new_values from '"id": ([0-9]+)'),
                                (SELECT s.id::text FROM sessions s WHERE s.uuid = a.row_uuid))
                  ELSE substring(a.new_values from '"session_id": ([0-9]+)') END AS session_ref,
             CASE WHEN a.table_name = 'patients'
                  THEN coalesce(substring(a.new_values from '"id": ([0-9]+)'),
                                (SELECT p.id::text FROM patients p WHERE p.uuid = a.row_uuid))
                  WHEN a.table_name = 'sessions'
                  THEN coalesce(substring(a.new_values from '"patient_id": ([0-9]+)'),
                                (SELECT s.patient_id::text FROM sessions s
                                 WHERE s.uuid = a.row_uuid))
                  ELSE substring(a.new_values from '"patient_id": ([0-9]+)') END AS patient_ref
      FROM audit_log a WHERE a.id > %s) entries
GROUP BY table_name, action, session_ref, patient_ref
ORDER BY min(row_uuid)
"""


def _ref(value: object) -> int | None:
    return int(str(value)) if value is not None and str(value).isdigit() else None


def payload(groups: list[tuple[Any, ...]], workstation: str) -> str | None:
    """The notification text for `groups` (rows of _GROUPED), under the size limit."""
    if not groups:
        return None
    by = str(groups[0][6])
    head = {"v": PAYLOAD_VERSION, "by": by, "ws": workstation[:63]}
    items = [[str(table), str(action), str(first) if int(count) == 1 else None,
              _ref(session), _ref(patient), int(count)]
             for table, action, session, patient, count, first, _user in groups]
    text = json.dumps({**head, "c": items}, separators=(",", ":"))
    if len(text.encode()) <= MAX_PAYLOAD:
        return text
    per_table: dict[tuple[str, str], int] = {}
    for item in items:
        key = (str(item[0]), str(item[1]))
        per_table[key] = per_table.get(key, 0) + int(str(item[5]))
    text = json.dumps({**head, "c": [[t, a, None, None, None, n]
                                     for (t, a), n in per_table.items()]},
                      separators=(",", ":"))
    if len(text.encode()) <= MAX_PAYLOAD:
        return text
    return json.dumps({**head, "c": [], "all": True}, separators=(",", ":"))


def notify_changes(conn: psycopg.Connection[Any], since: int) -> None:
    """Inside the write transaction, before COMMIT: one notification for the audit
    entries after `since` (none when the write appended nothing)."""
    statement = notify_statement(conn, since)
    if statement:
        conn.execute(statement)


def notify_statement(conn: psycopg.Connection[Any], since: int) -> str:
    """The `SELECT pg_notify(...)` for the audit entries after `since` as one statement
    with its payload quoted by psycopg ("" when the write appended nothing), so the
    engine can send it with its COMMIT in one round trip."""
    groups = conn.execute(_GROUPED, [since]).fetchall()
    text = payload(groups, conn.info.parameter_status("application_name") or "")
    if text is None:
        return ""
    return sql.SQL("SELECT pg_notify({}, {})").format(
        sql.Literal(CHANNEL), sql.Literal(text)).as_string(conn)


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
