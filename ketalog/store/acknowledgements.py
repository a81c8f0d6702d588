"""Acknowledgements of a session (allergy and formulary warnings given anyway, alarms with
the action taken), typed: the table name and its order live here only. Writes go through
the caller's audited Writer, so every change keeps its audit entry. Also the query that
needs a join: readings with alerts nobody has acknowledged yet (the session banner and the
Today board's mark)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ketalog.domain.acknowledgements import Acknowledgement
from ketalog.domain.entities import VitalsReading
from ketalog.store.records import acknowledgement_from_row, vitals_from_row
from ketalog.store.store import Store, Writer

TABLE = "acknowledgements"
ORDER = "at, id"

_PENDING = """
SELECT v.* FROM vitals v
WHERE v.session_id IN ({ids}) AND v.alerts != '[]' AND v.artifact = 0
  AND NOT EXISTS (SELECT 1 FROM acknowledgements a
                  WHERE a.subject_uuid = v.uuid AND a.kind = 'alarm')
ORDER BY v.at, v.id
"""


def of_session(store: Store, session_id: int) -> list[Acknowledgement]:
    """A session's acknowledgements in time order (ties by id)."""
    return [acknowledgement_from_row(r)
            for r in store.rows(TABLE, order_by=ORDER, session_id=session_id)]


def insert(w: Writer, values: Mapping[str, object], reason: str = "") -> int:
    """Store one acknowledgement (audited by the writer, with the reason); returns its id."""
    return w.insert(TABLE, values, reason=reason)


def unacknowledged_alert_vitals(store: Store, session_ids: Sequence[int]
                                ) -> list[VitalsReading]:
    """Readings with an alert flag, not struck through, with no alarm acknowledgement, in
    time order (ties by id)."""
    found: list[VitalsReading] = []
    ids = [int(i) for i in session_ids]
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        cursor = store.conn.execute(_PENDING.format(ids=", ".join("?" * len(chunk))), chunk)
        names = [d[0] for d in cursor.description]
        found += [vitals_from_row(dict(zip(names, row, strict=True)))
                  for row in cursor.fetchall()]
    return found
