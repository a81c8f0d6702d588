"""CSV export of a patient and vitals import through the services: files, quoting, units,
audit, round trip, all-or-nothing, roles and states, and a fuzz test of the import."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketalog.domain.entities import VITAL_FIELDS, Bag
from ketalog.services import sessions as svc
from ketalog.services.csv_export import export_patient_csv
from ketalog.services.errors import InvalidState, PermissionDenied, ServiceError
from ketalog.services.vitals_import import (
    ImportRejected,
    commit_vitals_import,
    import_vitals_file,
    preview_vitals_import,
)
from tests.interop.records import NOTE, full_session, new_patient
from tests.readiness import ACK_READINESS


def read(path):
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def patient_with_session(staffed, clock):
    store, ctx = staffed
    patient = new_patient(ctx)
    sid = full_session(ctx, patient, clock)
    return store, ctx, patient, sid


def test_csv_export_files_units_zeros_quoting_and_audit(patient_with_session, tmp_path):
    store, ctx, patient, sid = patient_with_session
    out = tmp_path / "export"
    result = export_patient_csv(ctx["nurse"], patient.id, out, tz=UTC)
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(f"{k}.csv" for k in ("sessions", "vitals", "doses", "medications",
                                                 "side_effects", "scores", "follow_ups",
                                                 "notes", "acknowledgements"))
    vitals = read(out / "vitals.csv")
    assert list(vitals[0])[:10] == ["session_id", "at", *VITAL_FIELDS]
    assert len(vitals) == result.rows["vitals"] == 4
    device = next(v for v in vitals if v["source"].startswith("device"))
    assert device["rr_per_min"] == "0"  # zero stays zero
    assert device["temp_c"] == ""  # missing stays empty
    assert device["alerts"] == "sbp_mmhg rr_per_min"  # RR 0 is below the alert band
    assert device["at"].endswith("+00:00") and "T" in device["at"]
    first = vitals[0]
    assert (first["map_mmhg"], first["map_derived"], first["temp_c"]) == ("97.3", "true", "36.6")
    artifact = next(v for v in vitals if v["artifact"] == "true")
    assert artifact["artifact_reason"] == "arm moved during NIBP cycle"
    notes = read(out / "notes.csv")
    assert notes[0]["text"] == NOTE  # commas, quotes, newline and accents survive
    raw = (out / "notes.csv").read_bytes()
    assert b'"Patient said: ""feels floaty, 3/10"", asked for water,\nthen' in raw
    assert "ünïcode".encode() in raw
    sessions = read(out / "sessions.csv")
    assert sessions[0]["patient_mrn"] == "K0001"
    assert float(sessions[0]["total_ketamine_mg"]) == pytest.approx(71.25)
    assert sessions[0]["signed_by"] == "Dr. Paul Provider, MD"
    doses = read(out / "doses.csv")
    assert [d["kind"] for d in doses] == ["bolus", "start", "rate_change", "pause", "resume",
                                          "stop"]
    assert doses[1]["rate_mg_per_h"] == "41" and doses[1]["rate_mg_per_kg_per_h"] == "0.5"
    assert doses[0]["cumulative_mg"] == "20" and doses[-1]["cumulative_mg"] == "71.25"
    assert doses[2]["acknowledged_warnings"] == ""  # slowed for nausea: nothing to acknowledge
    assert all(d["entered_in_error"] == "false" for d in doses)
    assert read(out / "medications.csv")[0]["dose"] == "4"
    scores = read(out / "scores.csv")
    assert {s["scale"] for s in scores} == {"nrs", "phq9", "moaas", "cadss6", "aldrete", "padss"}
    assert json.loads(next(s for s in scores if s["scale"] == "phq9")["items"])["item_9"] == 1
    effects = read(out / "side_effects.csv")
    assert effects[0]["action"] == "rate halved, ondansetron" and effects[0]["resolved_at"] == ""
    assert read(out / "follow_ups.csv")[0]["relief_hours"] == "20"
    entry = store.audit_rows()[-1]
    details = json.loads(str(entry["new_values"]))
    assert (entry["action"], entry["username"]) == ("export", "nurse")
    assert details["format"] == "csv" and details["files"]["vitals.csv"]["rows"] == 4
    assert details["sessions"] == [sid]


def _fresh_session(ctx, patient, arrival):
    return svc.start_session(ctx["nurse"], svc.SessionStart(
        patient.id, 82.0, Bag("ketamine", 1.0, 500), arrival_at=arrival, series_number=2,
        series_total=6)).id


def _comparable(readings):
    return sorted((r.at, *(getattr(r, f) for f in VITAL_FIELDS), r.map_derived, r.artifact,
                   r.artifact_reason) for r in readings)


def test_export_then_import_gives_the_same_readings(patient_with_session, tmp_path):
    store, ctx, patient, sid = patient_with_session
    export_patient_csv(ctx["nurse"], patient.id, tmp_path, tz=UTC)
    original = svc.vitals(store, sid)
    target = _fresh_session(ctx, patient, original[0].at - timedelta(minutes=10))
    audit_before = store.count("audit_log")
    result = import_vitals_file(ctx["nurse"], target, tmp_path / "vitals.csv")
    imported = svc.vitals(store, target)
    assert result.imported == len(original) == len(imported)
    assert _comparable(imported) == _comparable(original)
    assert {r.source for r in imported} == {"import:vitals.csv"}
    assert [r.alerts for r in sorted(imported, key=lambda r: r.at)] == \
        [r.alerts for r in original]
    assert not any(r.late_entry for r in imported)
    events = store.audit_rows()[audit_before:]
    assert sum(e["action"] == "insert" and e["table_name"] == "vitals" for e in events) == 4
    event = next(e for e in events if e["action"] == "import")
    details = json.loads(str(event["new_values"]))
    assert (event["username"], details["rows"], details["file"]) == ("nurse", 4, "vitals.csv")
    with pytest.raises(ImportRejected, match="already has this reading") as info:
        import_vitals_file(ctx["nurse"], target, tmp_path / "vitals.csv")
    assert [e.line for e in info.value.errors] == [2, 3, 4, 5]
    assert store.count("vitals", session_id=target) == 4


@pytest.fixture
def open_session(staffed, clock):
    store, ctx = staffed
    patient = new_patient(ctx, "K0002")
    sid = _fresh_session(ctx, patient, clock.now() - timedelta(hours=2))
    return store, ctx, sid


def _rows(clock, *lines):
    base = clock.now() - timedelta(hours=1)
    text = "time,sbp_mmhg,dbp_mmhg,hr_bpm,spo2_pct\n"
    for i, line in enumerate(lines):
        text += f"{(base + timedelta(minutes=i)).isoformat()},{line}\n"
    return text.encode()


def test_one_bad_row_imports_nothing(open_session, clock):
    store, ctx, sid = open_session
    data = _rows(clock, "120,80,70,98", "130,85,75,97", "120,80,70,140", "190,80,130,97")
    before = (store.count("vitals"), store.count("audit_log"))
    preview = preview_vitals_import(ctx["nurse"], sid, data, "mon.csv")
    assert [e.line for e in preview.errors] == [4] and not preview.ok
    assert "SpO2 140 % is outside" in preview.errors[0].message
    assert preview.alerts[-1] == ("sbp_mmhg", "hr_bpm")  # flagged, not rejected
    with pytest.raises(ImportRejected, match="line 4: SpO2 140"):
        commit_vitals_import(ctx["nurse"], preview)
    assert (store.count("vitals"), store.count("audit_log")) == before


def test_preview_writes_nothing_then_commit_writes_all(open_session, clock):
    store, ctx, sid = open_session
    data = _rows(clock, "120,80,70,98", "190,80,130,97", "--,--,72,")
    before = store.count("audit_log")
    preview = preview_vitals_import(ctx["admin"], sid, data, "/some/where/mon.csv")
    assert preview.ok and len(preview.readings) == 3
    assert store.count("audit_log") == before and store.count("vitals") == 0
    result = commit_vitals_import(ctx["admin"], preview)
    stored = svc.vitals(store, sid)
    assert result.imported == 3 and [r.source for r in stored] == ["import:mon.csv"] * 3
    assert stored[1].alerts == ("sbp_mmhg", "hr_bpm")
    assert stored[0].map_mmhg == pytest.approx(93.3) and stored[0].map_derived
    assert stored[2].sbp_mmhg is None and stored[2].hr_bpm == 72


def test_times_in_future_or_long_before_the_session(open_session, clock):
    store, ctx, sid = open_session
    future = (clock.now() + timedelta(minutes=5)).isoformat()
    early = (clock.now() - timedelta(hours=3, minutes=5)).isoformat()
    text = f"time,hr_bpm\n{future},70\n{early},71\n"
    preview = preview_vitals_import(ctx["nurse"], sid, text.encode(), "m.csv")
    messages = [str(e) for e in preview.errors]
    assert "line 2:" in messages[0] and "future" in messages[0]
    assert "line 3:" in messages[1] and "another patient's" in messages[1]


def test_roles_and_session_states(patient_with_session, open_session, clock, tmp_path):
    store, ctx, patient, signed_sid = patient_with_session
    _, _, sid = open_session
    data = _rows(clock, "120,80,70,98")
    with pytest.raises(PermissionDenied):
        preview_vitals_import(ctx["provider"], sid, data, "m.csv")
    with pytest.raises(InvalidState, match="signed"):
        preview_vitals_import(ctx["nurse"], signed_sid, data, "m.csv")
    preview = preview_vitals_import(ctx["nurse"], sid, data, "m.csv")
    svc.complete_session(ctx["nurse"], sid, acknowledged=ACK_READINESS)
    with pytest.raises(InvalidState, match="completed"):
        commit_vitals_import(ctx["nurse"], preview)  # the state is checked again at commit
    assert store.count("vitals", session_id=sid) == 0
    with pytest.raises(ServiceError, match="cannot read"):
        import_vitals_file(ctx["nurse"], sid, tmp_path / "nope.csv")


@pytest.fixture
def fuzz_target(staffed, clock):
    store, ctx = staffed
    patient = new_patient(ctx)
    return store, ctx, _fresh_session(ctx, patient, clock.now() - timedelta(hours=2))


cells = st.one_of(st.text(max_size=10), st.sampled_from(
    ["", "--", "120", "80", "70", "0", "300", "98", "1e3", "nan", "36,6", "true", '"', "\n"]))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(st.integers(-200, 30), st.lists(cells, min_size=4, max_size=5)),
                     max_size=6),
       garbage=st.binary(max_size=64), use_garbage=st.booleans())
def test_fuzz_import_only_our_errors_and_no_partial_writes(fuzz_target, clock, rows, garbage,
                                                           use_garbage):
    store, ctx, sid = fuzz_target
    if use_garbage:
        data = garbage
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["time", "sbp_mmhg", "dbp_mmhg", "hr_bpm", "spo2_pct"])
        for minutes, values in rows:
            writer.writerow([(clock.now() + timedelta(minutes=minutes)).isoformat(), *values])
        data = buffer.getvalue().encode()
    before = store.count("vitals")
    try:
        preview = preview_vitals_import(ctx["nurse"], sid, data, "fuzz.csv")
        result = commit_vitals_import(ctx["nurse"], preview)
    except ServiceError:
        assert store.count("vitals") == before
        return
    assert store.count("vitals") == before + result.imported


def test_running_infusion_total_is_as_of_the_export(open_session, clock, tmp_path):
    store, ctx, sid = open_session
    svc.record_dose(ctx["nurse"], sid, "start", rate_mg_per_h=40.0, acknowledge=True)
    clock.advance(minutes=30)
    session = svc.get_session(store, sid)
    export_patient_csv(ctx["nurse"], session.patient_id, tmp_path, tz=UTC)
    row = read(tmp_path / "sessions.csv")[0]
    assert (row["status"], row["total_ketamine_mg"], row["infusion_end_at"]) == (
        "in_progress", "20", "")
    assert read(tmp_path / "medications.csv") == []  # header only, no rows
    assert (tmp_path / "medications.csv").read_text().startswith("session_id,at,drug,dose,")
