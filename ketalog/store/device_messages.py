"""Queries of the monitor feed: open sessions to match against, the message ledger and
quarantine, and new vitals of a session (the GUI's live poll). The one module that names
the device_messages table: ledger rows come back as `DeviceMessage`s, and are written
through the caller's audited `Writer`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ketalog.store.store import Store, Writer
from ketalog.store.values import as_int, as_text, opt_float, opt_int

OPEN_STATUSES = ("draft", "in_progress")
TABLE = "device_messages"


@dataclass(frozen=True)
class OpenSession:
    """A session that may take device readings, with its patient's MRN."""

    id: int
    status: str
    chair: str
    patient_id: int
    mrn: str
    began_at: str  # ISO: arrival, else creation


@dataclass(frozen=True)
class DeviceMessage:
    """One row of the message ledger (stored, quarantined, assigned or discarded)."""

    id: int
    uuid: str
    received_at: str  # ISO
    sending_app: str
    control_id: str
    raw_sha256: str
    status: str
    ack_code: str
    reason: str
    session_id: int | None
    readings: int
    raw: str  # '' when not kept (a stored message)
    resolved_at: str | None
    resolved_by: int | None
    resolution_note: str
    source: str
    device_id: str
    refused: str  # JSON list
    other_channels: str  # JSON list
    unknown_codes: str  # JSON list
    clock_ahead_s: float | None
    part_of: int | None  # the stored message a refusal row belongs to


@dataclass(frozen=True)
class MonitorMessage:
    """What the feed dialog summarises of one received message."""

    source: str
    sending_app: str
    received_at: str  # ISO
    status: str
    clock_ahead_s: float | None
    unknown_codes: str  # JSON list


def _message(row: Mapping[str, object]) -> DeviceMessage:
    resolved_at = row["resolved_at"]
    return DeviceMessage(
        as_int(row["id"]), as_text(row["uuid"]), as_text(row["received_at"]),
        as_text(row["sending_app"]), as_text(row["control_id"]), as_text(row["raw_sha256"]),
        as_text(row["status"]), as_text(row["ack_code"]), as_text(row["reason"]),
        opt_int(row["session_id"]), as_int(row["readings"]), as_text(row["raw"]),
        None if resolved_at is None else as_text(resolved_at), opt_int(row["resolved_by"]),
        as_text(row["resolution_note"]), as_text(row["source"]), as_text(row["device_id"]),
        as_text(row["refused"]), as_text(row["other_channels"]), as_text(row["unknown_codes"]),
        opt_float(row["clock_ahead_s"]), opt_int(row["part_of"]))


def _select(store: Store, sql: str, params: list[object]) -> list[dict[str, object]]:
    cursor = store.conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def open_sessions(store: Store) -> list[OpenSession]:
    """Sessions that may take device readings, with the patient's MRN, by id."""
    rows = _select(store, "SELECT s.id, s.status, s.chair, s.patient_id, p.mrn, "
                          "coalesce(s.arrival_at, s.created_at) AS began_at "
                          "FROM sessions s JOIN patients p ON p.id = s.patient_id "
                          "WHERE s.status IN (?, ?) ORDER BY s.id", list(OPEN_STATUSES))
    return [OpenSession(as_int(r["id"]), as_text(r["status"]), as_text(r["chair"]),
                        as_int(r["patient_id"]), as_text(r["mrn"]), as_text(r["began_at"]))
            for r in rows]


def message(store: Store, message_id: int) -> DeviceMessage | None:
    row = store.get(TABLE, message_id)
    return None if row is None else _message(row)


def message_by_hash(store: Store, raw_sha256: str) -> DeviceMessage | None:
    rows = _select(store, "SELECT * FROM device_messages WHERE raw_sha256 = ?", [raw_sha256])
    return _message(rows[0]) if rows else None


def messages(store: Store, status: str | None = None, limit: int = 500
             ) -> list[DeviceMessage]:
    """Newest first; the raw text is included (quarantined messages keep it)."""
    if status is None:
        rows = _select(store, "SELECT * FROM device_messages ORDER BY id DESC LIMIT ?",
                       [limit])
    else:
        rows = _select(store, "SELECT * FROM device_messages WHERE status = ? "
                              "ORDER BY id DESC LIMIT ?", [status, limit])
    return [_message(r) for r in rows]


def message_count(store: Store) -> int:
    return store.count(TABLE)


def quarantined_count(store: Store) -> int:
    """Messages waiting for a nurse (one indexed count: idx_device_messages_status)."""
    return store.count(TABLE, status="quarantined")


def insert_message(w: Writer, values: Mapping[str, object]) -> int:
    """A new ledger row (audited as an insert into device_messages)."""
    return w.insert(TABLE, values)


def update_message(w: Writer, message_id: int, changes: Mapping[str, object],
                   reason: str = "") -> None:
    """A quarantined message assigned or discarded (audited with the reason)."""
    w.update(TABLE, message_id, changes, reason=reason)


def vitals_after(store: Store, session_id: int, after_id: int) -> list[dict[str, object]]:
    """Vitals rows of a session with id > after_id (cheap: primary key range)."""
    return _select(store, "SELECT * FROM vitals WHERE session_id = ? AND id > ? ORDER BY id",
                   [session_id, after_id])


def messages_by_source(store: Store, since: str) -> list[MonitorMessage]:
    """Ledger rows received since `since` (ISO), oldest first, the columns the feed
    dialog summarises per monitor (refusal rows of a stored message excluded)."""
    rows = _select(store, "SELECT source, sending_app, received_at, status, clock_ahead_s, "
                          "unknown_codes FROM device_messages WHERE received_at >= ? "
                          "AND part_of IS NULL ORDER BY received_at, id", [since])
    return [MonitorMessage(as_text(r["source"]), as_text(r["sending_app"]),
                           as_text(r["received_at"]), as_text(r["status"]),
                           opt_float(r["clock_ahead_s"]), as_text(r["unknown_codes"]))
            for r in rows]


def device_reading_times(store: Store, session_id: int) -> list[str]:
    """When the session's monitor readings were taken (ISO), artifacts included: a
    reading struck through was still sent."""
    cursor = store.conn.execute("SELECT at FROM vitals WHERE session_id = ? AND source LIKE "
                                "'device:%' ORDER BY at", [session_id])
    return [str(r[0]) for r in cursor]
