"""Demo clinic patients (long series, artifacts, late entries, addenda, follow-ups, a
live infusion) export to bundles that validate; the CSV of a demo session imports back
as the same readings."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from ketalog.domain.entities import VITAL_FIELDS, Bag
from ketalog.services import sessions as svc
from ketalog.services.auth import login
from ketalog.services.csv_export import export_patient_csv
from ketalog.services.demo import create_demo
from ketalog.services.fhir_export import export_patient_fhir
from ketalog.services.patients import search_patients
from ketalog.services.vitals_import import import_vitals_file
from ketalog.store import sessions as sessions_store
from tests.interop.test_fhir_export import of_type, validate


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from datetime import UTC, datetime

    from ketalog.domain.clock import FixedClock
    from ketalog.store.connection import open_store

    clock = FixedClock(datetime(2026, 11, 24, 16, 0, tzinfo=UTC))
    store = open_store(tmp_path_factory.mktemp("demo") / "demo.sqlite", clock)
    report = create_demo(store, clock, seed=3)
    ctx = login(store, clock, "nurse", report.passwords["nurse"])
    yield store, ctx, clock
    store.close()


def test_demo_patients_export_valid_bundles(demo, tmp_path):
    """The longest series, a live infusion and artifacts (validating every demo patient
    takes a minute; these three cover the shapes)."""
    store, ctx, _ = demo
    sessions = [s.session for s in sessions_store.listing(store)]
    longest = max({s.patient_id for s in sessions},
                  key=lambda pid: sum(s.patient_id == pid for s in sessions))
    live = next(s.patient_id for s in sessions if s.status == "in_progress")
    artifact = int(store.get("sessions", int(store.rows("vitals", artifact=1)[0][
        "session_id"]))["patient_id"])
    chosen = {longest, live, artifact}
    seen: set[str] = set()
    for patient in search_patients(ctx, limit=1000):
        if patient.id not in chosen:
            continue
        out = tmp_path / f"{patient.mrn}.json"
        result = export_patient_fhir(ctx, patient.id, out)
        bundle = json.loads(out.read_text(encoding="utf-8"))
        validate(bundle)
        assert len(of_type(bundle, "Encounter")) == result.sessions
        seen |= {o["status"] for o in of_type(bundle, "Observation")}
    assert {"final", "entered-in-error"} <= seen  # signed sessions and demo artifacts


def test_demo_patient_csv_round_trip(demo, tmp_path):
    store, ctx, clock = demo
    row = max((s.session for s in sessions_store.listing(store)),
              key=lambda s: store.count("vitals", session_id=s.id))
    assert row.id is not None
    original = svc.vitals(store, row.id)
    export_patient_csv(ctx, row.patient_id, tmp_path)
    lines = (tmp_path / "vitals.csv").read_text(encoding="utf-8").splitlines()
    mine = [lines[0]] + [x for x in lines[1:] if x.split(",")[0] == str(row.id)]
    (tmp_path / "one.csv").write_text("\n".join(mine) + "\n", encoding="utf-8")
    target = svc.start_session(ctx, svc.SessionStart(
        row.patient_id, 70.0, Bag("ketamine", 1.0, 500), series_number=1,
        series_total=1, arrival_at=original[0].at - timedelta(minutes=5))).id
    result = import_vitals_file(ctx, target, tmp_path / "one.csv")
    assert result.imported == len(original) > 10

    def key(r):
        return (r.at, *(getattr(r, f) for f in VITAL_FIELDS), r.map_derived, r.artifact,
                r.artifact_reason, r.alerts)
    assert sorted(map(key, svc.vitals(store, target))) == sorted(map(key, original))
