"""Optimistic edits (`Writer.update(..., expected=...)`, store/edit_conflicts.py) on both
engines: an edit whose starting values are no longer the row's is refused, naming who
changed the row; nothing of it is written or audited."""

from __future__ import annotations

from datetime import date

import pytest

from ketalog.store import patients as patient_rows
from ketalog.store.errors import ChangedMeanwhile, Conflict
from ketalog.store.store import Actor

pytestmark = pytest.mark.both_engines

NURSE1, NURSE2 = Actor(None, "nurse1"), Actor(None, "nurse2")


def _patient(store) -> int:  # noqa: ANN001
    with store.write(NURSE1) as w:
        return patient_rows.insert_patient(w, {
            "mrn": "K1", "family_name": "Okafor", "given_name": "Ada",
            "birth_date": date(1980, 2, 3).isoformat(), "sex": "female",
            "allergies": "", "created_at": "2026-11-24T14:00:00.000Z"})


def test_an_edit_from_unchanged_values_is_saved(store):
    pid = _patient(store)
    with store.write(NURSE1) as w:
        patient_rows.update_patient(w, pid, {"allergies": "latex"},
                                    expected={"allergies": ""})
    found = patient_rows.patient(store, pid)
    assert found is not None and found.allergies == "latex"


def test_a_stale_edit_is_refused_with_who_changed_it(store):
    pid = _patient(store)
    with store.write(NURSE2) as w:
        patient_rows.update_patient(w, pid, {"allergies": "penicillin"},
                                    expected={"allergies": ""})
    entries = len(store.audit_rows())
    with pytest.raises(ChangedMeanwhile) as refused, store.write(NURSE1) as w:
        patient_rows.update_patient(w, pid, {"allergies": "latex"},
                                    expected={"allergies": ""})
    text = str(refused.value)
    assert text.startswith("nurse2 changed this patient at ")
    assert "(allergies); your changes were not saved" in text
    assert isinstance(refused.value, Conflict)
    found = patient_rows.patient(store, pid)
    assert found is not None and found.allergies == "penicillin"  # no lost update
    assert len(store.audit_rows()) == entries


def test_without_expected_values_an_update_is_as_before(store):
    pid = _patient(store)
    with store.write(NURSE2) as w:
        patient_rows.update_patient(w, pid, {"allergies": "penicillin"})
    with store.write(NURSE1) as w:
        patient_rows.update_patient(w, pid, {"allergies": "latex"})
    found = patient_rows.patient(store, pid)
    assert found is not None and found.allergies == "latex"
