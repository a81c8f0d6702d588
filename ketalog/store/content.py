"""What a signature covers: the session row (all but its status) and every row under it.
Follow-ups are recorded after signing and are deliberately outside the signed content."""

from __future__ import annotations

from ketalog.store import sessions as sessions_store
from ketalog.store.errors import NotFound
from ketalog.store.store import Store

UNSIGNED_SESSION_COLUMNS = frozenset({"status"})
# Columns added by later migrations: covered only when set, so sessions signed before
# the column existed (where it reads NULL) keep the hash they were signed with.
LATER_SESSION_COLUMNS = frozenset({"series_id", "discharge_readiness"})
LATER_CHILD_COLUMNS = frozenset({"struck_reason", "struck_at", "struck_by"})
# Child tables added by later migrations: covered only when the session has rows in them,
# so sessions signed before the table existed keep their hash.
LATER_CHILD_TABLES: tuple[str, ...] = ("acknowledgements",)


def session_content(store: Store, session_id: int) -> dict[str, object]:
    session = store.get("sessions", session_id)
    if session is None:
        raise NotFound(f"session {session_id} does not exist")
    content: dict[str, object] = {
        "session": {k: v for k, v in session.items() if k not in UNSIGNED_SESSION_COLUMNS
                    and not (k in LATER_SESSION_COLUMNS and v is None)}}
    content.update({table: [{k: v for k, v in row.items()
                             if not (k in LATER_CHILD_COLUMNS and v is None)} for row in rows]
                    for table, rows in sessions_store.child_rows(store, session_id).items()})
    for table in LATER_CHILD_TABLES:
        rows = store.rows(table, order_by="at, id", session_id=session_id)
        if rows:
            content[table] = rows
    return content
