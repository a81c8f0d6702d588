"""Coded indications: free text mapped case-insensitively (migration and entry), the
category picking the guideline rules, the default protocol never another indication's,
and what could not be mapped listed for the admin."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketalog.domain import dosing
from ketalog.domain.entities import Bag, DoseKind
from ketalog.domain.errors import PlausibilityError
from ketalog.domain.indications import SEED_INDICATIONS, Category, Indication, match_indication
from ketalog.services import sessions as svc
from ketalog.services.errors import WarningsNotAcknowledged
from ketalog.services.indications import (
    add_indication,
    default_protocol_id,
    migration_unmapped,
    patient_indication,
    unmapped_indications,
)
from ketalog.services.patients import PatientInput, create_patient
from ketalog.services.protocols import list_protocols
from ketalog.store.connection import open_store

pytestmark = pytest.mark.both_engines

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "schema_m001.sqlite"
SEEDED = [Indication(i, name, cat) for i, (name, cat) in enumerate(SEED_INDICATIONS, start=1)]

MAPPED = {
    "CRPS": "CRPS", "crps left foot": "CRPS", "Complex Regional Pain Syndrome": "CRPS",
    "Neuropathic Pain": "neuropathic pain", "FIBROMYALGIA": "fibromyalgia",
    "chronic pain": "chronic pain", "Chronic low back pain": None,
    "depression": "depression", "Treatment-resistant depression":
        "treatment-resistant depression", "TRD": "treatment-resistant depression",
    "MDD, recurrent": "major depressive disorder", "bipolar depression": "bipolar depression",
    "Bipolar II depression": "depression", "PTSD": "PTSD", "anxiety": "anxiety",
    "migraine": None, "": None,
}


@pytest.mark.parametrize(("text", "name"), MAPPED.items())
def test_free_text_maps_case_insensitively(text, name):
    found = match_indication(text, SEEDED)
    assert (found.name if found else None) == name


@given(st.sampled_from([n for n, _ in SEED_INDICATIONS]), st.sampled_from(
    [str.lower, str.upper, str.title, lambda s: f"  {s} "]))
def test_any_case_or_spacing_of_a_name_maps_to_it(name, change):
    assert match_indication(change(name), SEEDED).name == name  # type: ignore[union-attr]


def test_chronic_pain_is_never_crps_and_mood_texts_get_mood_rules():
    assert dosing.rule_key("chronic pain") == "pain"
    assert dosing.rule_key("CRPS") == "crps"
    for text in ("treatment-resistant depression", "TRD", "bipolar depression", "MDD"):
        assert dosing.rule_key(text) == "mood", text
        [w] = dosing.rate_warnings(1.5 * 70, 70, text)  # 1.5 mg/kg/h: above low-dose limit
        assert w.code == "rate_above_low_dose" and "Pennsylvania" in w.source


@pytest.mark.sqlite_only("migrates an old SQLite file written with raw sqlite3")
def test_migration_maps_old_records_and_lists_the_rest(tmp_path, clock):
    path = tmp_path / "old.sqlite"
    shutil.copyfile(FIXTURE, path)
    conn = sqlite3.connect(path)
    for n, text in enumerate(["TRD", "Chronic Pain", "bipolar depression", "long covid",
                              "long covid", "CRPS type 1"], start=2):
        conn.execute("INSERT INTO patients (uuid, mrn, family_name, given_name, birth_date, "
                     "indication, created_at) VALUES (?, ?, 'Old', 'Pat', '1970-01-01', ?, "
                     "'2025-01-01T00:00:00.000Z')", [f"u{n}", f"OLD-{n:04d}", text])
    conn.commit()
    conn.close()
    store = open_store(path, clock)
    try:
        coded = {str(r["mrn"]): patient_indication(store, int(r["id"]))  # type: ignore[call-overload]
                 for r in store.rows("patients")}
        names = {mrn: (i.name, i.category.value) if i else None for mrn, i in coded.items()}
        assert names == {
            "OLD-0001": ("depression", "mood"),
            "OLD-0002": ("treatment-resistant depression", "mood"),
            "OLD-0003": ("chronic pain", "pain"), "OLD-0004": ("bipolar depression", "mood"),
            "OLD-0005": None, "OLD-0006": None, "OLD-0007": ("CRPS", "pain")}
        assert store.get_by("patients", mrn="OLD-0002")["indication"] == "TRD"  # note kept
        assert migration_unmapped(store) == {"long covid": 2}
        assert unmapped_indications(store) == [("long covid", 2)]
    finally:
        store.close()


def test_coded_category_selects_rules_and_default_protocol(staffed, clock):
    store, ctx = staffed
    nurse, admin = ctx["nurse"], ctx["admin"]
    chronic = create_patient(nurse, PatientInput("I1", "Pain", "Pat", date(1970, 1, 1),
                                                 indication="Chronic pain"))
    crps = create_patient(nurse, PatientInput("I2", "Foot", "Fay", date(1970, 1, 1),
                                              indication="crps"))
    trd = create_patient(nurse, PatientInput("I3", "Mood", "Max", date(1970, 1, 1),
                                             indication="TRD"))
    protocols = {p.indication: p.id for p in list_protocols(nurse)}
    assert default_protocol_id(store, crps.id) == protocols["CRPS"]
    assert default_protocol_id(store, chronic.id) is None  # not the CRPS protocol
    assert default_protocol_id(store, trd.id) is None  # no TRD protocol (yet)
    s = svc.start_session(nurse, svc.SessionStart(trd.id, 70.0, Bag("ketamine", 1.0, 500)))
    with pytest.raises(WarningsNotAcknowledged) as caught:
        svc.record_dose(nurse, s.id, DoseKind.START, rate_mg_per_h=1.5 * 70)
    assert caught.value.warnings[0].code == "rate_above_low_dose"
    # the admin adds an indication: uncoded patients it matches are coded with it
    odd = create_patient(nurse, PatientInput("I4", "Odd", "Oz", date(1970, 1, 1),
                                             indication="Ketamine-responsive OCD"))
    assert unmapped_indications(store) == [("Ketamine-responsive OCD", 1)]
    with pytest.raises(PlausibilityError):
        add_indication(admin, "Depression", Category.MOOD)  # already on the list
    add_indication(admin, "ketamine-responsive OCD", "other")
    found = patient_indication(store, odd.id)
    assert found is not None and found.category is Category.OTHER
    assert unmapped_indications(store) == []
    assert dosing.rule_key(found.rule_key) == "other"
