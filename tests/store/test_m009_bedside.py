"""m009_bedside from an empty file and from the oldest fixture: the free-text allergies
become entries (the text itself stays), and the new tables lock with a signed session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ketalog.store.connection import open_store
from ketalog.store.schema import migrations
from ketalog.store.verify import verify_store

pytestmark = pytest.mark.both_engines

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "schema_m001.sqlite"


@pytest.mark.sqlite_only("migration m009 of the SQLite file (the server's schema steps are tests/store/test_pg_schema.py's)")
def test_empty_file_gets_the_tables_and_lock_triggers(tmp_path, clock):
    store = open_store(tmp_path / "new.db", clock)
    try:
        assert "m009_bedside" in [m.name for m in migrations.applied(store.engine.db)]
        assert {"allergies", "formulary", "acknowledgements"} <= set(store.engine.db.table_names())
        assert {"acknowledgements_locked_insert", "acknowledgements_locked_update",
                "acknowledgements_locked_delete"} <= store.trigger_names()
        assert store.count("allergies") == 0
    finally:
        store.close()


@pytest.mark.sqlite_only("migration m009 of an old SQLite file")
def test_old_file_free_text_becomes_entries(tmp_path, clock):
    path = tmp_path / "clinic.db"
    shutil.copyfile(FIXTURE, path)
    store = open_store(path, clock)
    try:
        patient = store.get_by("patients", mrn="OLD-0001")
        assert patient["allergies"] == "latex"  # the text is kept
        (entry,) = store.rows("allergies", patient_id=patient["id"])
        assert (entry["substance"], entry["reaction"], entry["severity"], entry["source_text"]) \
            == ("latex", "", "unknown", "latex")
        assert verify_store(store) == []
    finally:
        store.close()


def test_signed_content_unchanged_for_sessions_without_acknowledgements(staffed, clock):
    """A session signed before m009 hashes the same after it: the new table joins the
    signed content only when the session has rows in it."""
    from datetime import date

    from ketalog.domain.entities import Bag
    from ketalog.services import alarms
    from ketalog.services import sessions as svc
    from ketalog.services.patients import PatientInput, create_patient
    from ketalog.store.content import session_content

    store, ctx = staffed
    nurse = ctx["nurse"]
    patient = create_patient(nurse, PatientInput("M9", "Ito", "Ken", date(1980, 1, 1)))
    session = svc.start_session(nurse, svc.SessionStart(patient.id, 70, Bag("ketamine", 1, 500)))
    svc.record_vitals(nurse, session.id, {"spo2_pct": 85})
    assert "acknowledgements" not in session_content(store, session.id)
    alarms.acknowledge_alarms(nurse, session.id, "oxygen 2 L/min")
    assert len(session_content(store, session.id)["acknowledgements"]) == 1
