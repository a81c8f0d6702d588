"""Two workstations editing one record: the later edit is refused, not saved over the
earlier one. A form's service hands `Writer.update` the values its screen started from
(`expected`); inside the write transaction, under the write lock, each column whose
current value differs from them refuses the whole change with `ChangedMeanwhile`,
naming who changed the record and when, from the audit log. No schema change: the
row's own columns are the version."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime

from ketalog.store.engine_api import Connection
from ketalog.store.errors import ChangedMeanwhile

__all__ = ["changed_columns", "last_changed_by", "refuse_if_changed"]

# How the refusal names a record of each table a form edits.
NOUNS = {"patients": "patient", "protocols": "protocol", "sessions": "session",
         "treatment_series": "treatment series", "users": "user account"}


def changed_columns(current: Mapping[str, object], expected: Mapping[str, object]) -> list[str]:
    """The columns whose value is no longer the one the caller started from."""
    return [k for k, v in expected.items() if current.get(k) != v]


def last_changed_by(conn: Connection, table: str, row_uuid: str,
                    columns: Sequence[str] = ()) -> tuple[str, str] | None:
    """Who last changed the row (any of `columns`, when given): their name as the user
    list has it, else the audit log's username, and when, from the audit log."""
    rows = conn.execute(
        "SELECT a.username, a.at, u.display_name, a.new_values FROM audit_log a "
        "LEFT JOIN users u ON u.id = a.user_id "
        "WHERE a.table_name = ? AND a.row_uuid = ? ORDER BY a.id DESC LIMIT 200",
        [table, row_uuid]).fetchall()
    for username, at, display, new_values in rows:
        try:
            touched = json.loads(str(new_values)) if new_values else {}
        except ValueError:
            touched = {}
        if columns and not (isinstance(touched, dict) and set(columns) & set(touched)):
            continue
        name = str(username)
        who = f"{display} ({name})" if display and str(display) != name else name
        return who, str(at)
    return None


def _local_time(at: str) -> str:
    try:
        return f"{datetime.fromisoformat(at.replace('Z', '+00:00')).astimezone():%H:%M}"
    except ValueError:
        return at


def refuse_if_changed(conn: Connection, table: str, current: Mapping[str, object],
                      expected: Mapping[str, object]) -> None:
    """Raise ChangedMeanwhile when `current` (the row read under the write lock) no
    longer holds the `expected` values."""
    stale = changed_columns(current, expected)
    if not stale:
        return
    noun = NOUNS.get(table, "record")
    found = last_changed_by(conn, table, str(current.get("uuid", current.get("id", ""))),
                            stale)
    who = f"{found[0]} changed this {noun} at {_local_time(found[1])}" if found else \
        f"Someone else changed this {noun}"
    fields = ", ".join(c.replace("_", " ") for c in stale)
    raise ChangedMeanwhile(f"{who} after you opened it ({fields}); your changes were not "
                           "saved. The screen now shows the current record: make your "
                           "changes again if they are still needed.")
