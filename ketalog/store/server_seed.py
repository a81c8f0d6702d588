"""What a new clinic database holds before anyone logs in, written on a clinic server
the way the SQLite file's migrations write it: the coded indications and the (empty)
list of free-text indications not yet mapped to them. On the server it goes through the
audited Writer, so the audit log has the same `insert` entries by "system" a new file's
upgrade step records."""

from __future__ import annotations

from ketalog.domain.indications import SEED_INDICATIONS
from ketalog.store import indications as indication_rows
from ketalog.store import settings as stored
from ketalog.store.store import SYSTEM, Store

UNMAPPED_KEY = "unmapped_indications"


def seed_new_clinic(store: Store) -> int:
    """Seed an empty clinic database; returns the rows written (0 when seeded before)."""
    if indication_rows.indications(store, include_retired=True) or stored.is_set(
            store, UNMAPPED_KEY):
        return 0
    with store.write(SYSTEM) as w:
        for name, category in SEED_INDICATIONS:
            indication_rows.insert_indication(w, name, category, None, w.now)
        stored.write(w, UNMAPPED_KEY, {})
    return len(SEED_INDICATIONS) + 1
