"""What a committed write changed, as the other workstations hear of it (the clinic
server's notifications, `pg_changes.py`). A local file has no other workstations: its
changes are this one's own, which its screens already show."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Change"]


@dataclass(frozen=True)
class Change:
    """Rows of one table changed by one committed write."""

    table: str
    action: str  # insert, update, delete, or an event's name (login, export...)
    row_uuid: str | None  # the row, when the write touched one row of this kind
    session_id: int | None  # the session the rows belong to, where the write says
    patient_id: int | None
    rows: int
    by: str  # the username that made the change
    workstation: str  # the writing connection's application_name
    own: bool = False  # made through the listening store's own connection
    everything: bool = False  # too many to list: every screen reloads

