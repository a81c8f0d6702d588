"""What a signature covers: the session row (all but its status) and every row under it.
Follow-ups are recorded after signing and are deliberately outside the signed content."""

from __future__ import annotations

from ketalog.store.errors import NotFound
from ketalog.store.store import Store

UNSIGNED_SESSION_COLUMNS = frozenset({"status"})


def session_content(store: Store, session_id: int) -> dict[str, object]:
    session = store.get("sessions", session_id)
    if session is None:
        raise NotFound(f"session {session_id} does not exist")
    content: dict[str, object] = {
        "session": {k: v for k, v in session.items() if k not in UNSIGNED_SESSION_COLUMNS}}
    content.update(store.session_children(session_id))
    return content
