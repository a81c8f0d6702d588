"""Queries of the monitor feed: open sessions to match against, the message ledger and
quarantine, and new vitals of a session (the GUI's live poll)."""

from __future__ import annotations

from ketalog.store.store import Store

OPEN_STATUSES = ("draft", "in_progress")


def _select(store: Store, sql: str, params: list[object]) -> list[dict[str, object]]:
    cursor = store.conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def open_sessions(store: Store) -> list[dict[str, object]]:
    """Sessions that may take device readings, with the patient's MRN."""
    return _select(store, "SELECT s.id, s.status, s.chair, s.patient_id, p.mrn, "
                          "coalesce(s.arrival_at, s.created_at) AS began_at "
                          "FROM sessions s JOIN patients p ON p.id = s.patient_id "
                          "WHERE s.status IN (?, ?) ORDER BY s.id", list(OPEN_STATUSES))


def message_by_hash(store: Store, raw_sha256: str) -> dict[str, object] | None:
    rows = _select(store, "SELECT * FROM device_messages WHERE raw_sha256 = ?", [raw_sha256])
    return rows[0] if rows else None


def messages(store: Store, status: str | None = None, limit: int = 500
             ) -> list[dict[str, object]]:
    """Newest first; the raw text is included (quarantined messages keep it)."""
    if status is None:
        return _select(store, "SELECT * FROM device_messages ORDER BY id DESC LIMIT ?",
                       [limit])
    return _select(store, "SELECT * FROM device_messages WHERE status = ? "
                          "ORDER BY id DESC LIMIT ?", [status, limit])


def vitals_after(store: Store, session_id: int, after_id: int) -> list[dict[str, object]]:
    """Vitals rows of a session with id > after_id (cheap: primary key range)."""
    return _select(store, "SELECT * FROM vitals WHERE session_id = ? AND id > ? ORDER BY id",
                   [session_id, after_id])


def messages_by_source(store: Store, since: str) -> list[dict[str, object]]:
    """Ledger rows received since `since` (ISO), oldest first, the columns the feed
    dialog summarises per monitor (refusal rows of a stored message excluded)."""
    return _select(store, "SELECT source, sending_app, received_at, status, clock_ahead_s, "
                          "unknown_codes FROM device_messages WHERE received_at >= ? "
                          "AND part_of IS NULL ORDER BY received_at, id", [since])


def device_reading_times(store: Store, session_id: int) -> list[str]:
    """When the session's monitor readings were taken (ISO), artifacts included: a
    reading struck through was still sent."""
    cursor = store.conn.execute("SELECT at FROM vitals WHERE session_id = ? AND source LIKE "
                                "'device:%' ORDER BY at", [session_id])
    return [str(r[0]) for r in cursor]
