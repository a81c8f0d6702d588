"""Allergy entries of many patients in one query (the patient list)."""

from __future__ import annotations

from collections.abc import Sequence

from ketalog.store.store import Store


def active_allergy_rows(store: Store, patient_ids: Sequence[int]) -> list[dict[str, object]]:
    """Entries not removed, oldest first, for the given patients."""
    found: list[dict[str, object]] = []
    ids = [int(i) for i in patient_ids]
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        cursor = store.conn.execute(
            f"SELECT * FROM allergies WHERE removed_at IS NULL AND patient_id IN "
            f"({', '.join('?' * len(chunk))}) ORDER BY id", chunk)
        names = [d[0] for d in cursor.description]
        found += [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return found
