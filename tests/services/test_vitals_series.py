"""Vitals as columns for the session screen: same readings, same order, as the full rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ketalog.domain.entities import Bag, VitalsReading
from ketalog.services.patients import PatientInput, create_patient
from ketalog.services.record import load_record
from ketalog.services.sessions import SessionStart, mark_artifact, record_vitals, start_session
from ketalog.services.vitals_series import (
    CHART_FIELDS,
    VitalsColumns,
    _posix_seconds,
    load_vitals,
    load_vitals_columns,
)
from ketalog.store.errors import StoreError

pytestmark = pytest.mark.both_engines

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture
def session(staffed, clock):
    store, ctx = staffed
    nurse = ctx["nurse"]
    patient = create_patient(nurse, PatientInput("V1", "Roe", "Ann", datetime(1980, 1, 2).date()))
    s = start_session(nurse, SessionStart(patient.id, 70.0, Bag("ketamine", 1.0, 500)))
    return store, nurse, s.id


def test_columns_match_full_readings_including_late_entries_and_artifacts(session, clock):
    store, nurse, sid = session
    now = clock.now()
    clock.advance(minutes=15)
    record_vitals(nurse, sid, {"sbp_mmhg": 120, "dbp_mmhg": 80, "hr_bpm": 70}, at=now)
    record_vitals(nurse, sid, {"hr_bpm": 72, "spo2_pct": 97}, at=now + timedelta(minutes=10))
    late = record_vitals(nurse, sid, {"sbp_mmhg": 131, "dbp_mmhg": 85},
                         at=now + timedelta(minutes=5))
    mark_artifact(nurse, late.id, "cuff moved")
    full = load_record(nurse, sid).vitals
    columns = load_vitals_columns(nurse, sid)
    assert columns.ids == [r.id for r in full]
    assert columns.at_s == [r.at.timestamp() for r in full]
    for name in CHART_FIELDS:
        assert columns.values[name] == [getattr(r, name) for r in full]
    assert columns.artifact == [False, True, False]
    assert columns.last_bp_at() == now  # the artifact and the HR-only reading do not count
    assert load_vitals(nurse, list(reversed(columns.ids))) == list(reversed(full))
    assert load_record(nurse, sid, with_vitals=False).vitals == ()


def test_add_keeps_time_order():
    columns = VitalsColumns()
    for i, minutes in enumerate((0, 10, 5, 10)):
        columns.add(VitalsReading(i + 1, f"u{i}", 1, T0 + timedelta(minutes=minutes),
                                  sbp_mmhg=100.0 + i))
    assert columns.ids == [1, 3, 2, 4]  # equal times keep arrival order
    assert columns.values["sbp_mmhg"] == [100.0, 102.0, 101.0, 103.0]
    assert columns.last_bp_at() == T0 + timedelta(minutes=10)
    assert VitalsColumns().last_bp_at() is None


def test_time_parsing_fast_path_and_fallback_agree():
    canonical = ["2026-11-24T08:00:00.000Z", "2026-11-24T08:00:01.250Z"]
    assert _posix_seconds(canonical) == [
        datetime(2026, 11, 24, 8, tzinfo=UTC).timestamp(),
        datetime(2026, 11, 24, 8, 0, 1, 250000, tzinfo=UTC).timestamp()]
    mixed = ["2026-11-24T09:00:00+01:00", "2026-11-24T08:00:01.250Z"]
    assert _posix_seconds(mixed)[0] == \
        datetime(2026, 11, 24, 8, tzinfo=UTC).timestamp()
    with pytest.raises(ValueError, match="no timezone"):
        _posix_seconds(["2026-11-24T08:00:00"])


def test_column_values_refuses_unknown_columns(session):
    store, _, sid = session
    with pytest.raises(StoreError, match="unknown column"):
        store.column_values("vitals", ("id", "nope"), order_by="at", session_id=sid)
    with pytest.raises(StoreError, match="unknown column"):
        store.column_values("vitals", ("id",), order_by="at; DROP TABLE vitals", session_id=sid)


def test_rows_with_ids_crosses_the_variable_limit(session, clock):
    store, nurse, sid = session
    start = clock.now()
    clock.advance(hours=1)
    ids = [record_vitals(nurse, sid, {"hr_bpm": 60 + i % 30},
                         at=start + timedelta(seconds=i)).id for i in range(1203)]
    assert [r["id"] for r in store.rows_with_ids("vitals", ids)] == ids
