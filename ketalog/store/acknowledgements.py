"""Queries over acknowledgements that need a join: readings with alerts nobody has
acknowledged yet (the session banner and the Today board's mark)."""

from __future__ import annotations

from collections.abc import Sequence

from ketalog.store.store import Store

_PENDING = """
SELECT v.* FROM vitals v
WHERE v.session_id IN ({ids}) AND v.alerts != '[]' AND v.artifact = 0
  AND NOT EXISTS (SELECT 1 FROM acknowledgements a
                  WHERE a.subject_uuid = v.uuid AND a.kind = 'alarm')
ORDER BY v.at, v.id
"""


def unacknowledged_alert_vitals(store: Store, session_ids: Sequence[int]
                                ) -> list[dict[str, object]]:
    """Vitals rows with an alert flag, not struck through, with no alarm acknowledgement."""
    found: list[dict[str, object]] = []
    ids = [int(i) for i in session_ids]
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        cursor = store.conn.execute(_PENDING.format(ids=", ".join("?" * len(chunk))), chunk)
        names = [d[0] for d in cursor.description]
        found += [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return found
