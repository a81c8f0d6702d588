"""The demo clinic: big enough to look real, clinically coherent, deterministic, fast,
and indistinguishable (to verify, the dosing rules and the vitals rules) from records
entered through the services."""

from __future__ import annotations

import json
import statistics
import time
from datetime import UTC, date, datetime, timedelta

import pytest

from ketalog.domain import dosing
from ketalog.domain.alerts import AlertThresholds
from ketalog.domain.clock import FixedClock, from_iso
from ketalog.domain.hashing import content_hash
from ketalog.domain.plausibility import validate_vitals
from ketalog.domain.scales import SCALES
from ketalog.domain.vitals import derive_map_mmhg
from ketalog.services.auth import bootstrap_admin, login
from ketalog.services.demo import DemoReport, create_demo
from ketalog.services.errors import ServiceError
from ketalog.services.sessions import NURSE_SIGNATURE, PROVIDER_SIGNATURE, dose_events
from ketalog.store.connection import open_store
from ketalog.store.content import session_content
from ketalog.store.verify import verify_store
from tests.engines import ENGINES, open_new_database

pytestmark = pytest.mark.both_engines

VITALS = ("sbp_mmhg", "dbp_mmhg", "map_mmhg", "hr_bpm", "spo2_pct", "rr_per_min",
          "etco2_mmhg", "temp_c")


NOW = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # the conftest clock's instant


@pytest.fixture
def demo(store, clock) -> DemoReport:
    """A demo in the conftest store, for tests that write (logins) or time it."""
    started = time.perf_counter()
    report = create_demo(store, clock, seed=1)
    assert time.perf_counter() - started < 30  # the ceiling; ~1.5-2.5 s measured
    return report


@pytest.fixture(scope="module", params=ENGINES)
def shared(request, tmp_path_factory):
    """One demo shared by the read-only checks: building it costs ~2 s each time."""
    clock = FixedClock(NOW)
    store = open_new_database(request.param, request, tmp_path_factory.mktemp("demo"), clock)
    report = create_demo(store, clock, seed=1)
    yield store, clock, report
    store.close()


def test_counts_statuses_and_the_running_session(shared):
    store, clock, demo = shared
    assert demo.patients == store.count("patients") >= 20
    assert demo.sessions == store.count("sessions") >= 150
    assert demo.vitals == store.count("vitals")
    assert demo.signed == store.count("sessions", status="signed")
    assert demo.signed >= 0.85 * demo.sessions
    assert 1 <= store.count("sessions", status="completed") <= 8  # a few await the provider
    assert store.count("sessions", status="draft") == 0
    running = store.rows("sessions", status="in_progress")
    assert [r["id"] for r in running] == [demo.in_progress_session_id]
    session = running[0]
    events = dose_events(store, session["id"])
    assert dosing.infusion_state(events) == "running"
    started = from_iso(session["infusion_start_at"])
    assert timedelta(minutes=80) <= clock.now() - started <= timedelta(minutes=100)
    assert session["infusion_end_at"] is None and session["discharge_at"] is None
    last = max(from_iso(v["at"]) for v in store.rows("vitals", session_id=session["id"]))
    assert clock.now() - timedelta(minutes=16) <= last <= clock.now()


def test_staff_and_passwords(store, clock, demo):
    assert store.setting("clinic_name") == demo.clinic_name
    assert set(demo.passwords) == {"admin", "nurse", "nurse2", "provider"}
    assert all(len(p) >= 8 for p in demo.passwords.values())
    roles = {"admin": "admin", "nurse": "nurse", "nurse2": "nurse", "provider": "provider"}
    for username, role in roles.items():
        ctx = login(store, clock, username, demo.passwords[username])
        assert role in {r.value for r in ctx.user.roles}
    provider = login(store, clock, "provider", demo.passwords["provider"]).user
    assert (provider.display_name, provider.credentials) == ("Dr. Amir Haddad", "MD")
    assert verify_store(store) == []  # logins only append to the audit chain


def test_verify_clean_and_signatures_made_as_the_services_make_them(shared):
    store, clock, demo = shared
    assert verify_store(store) == []
    users = {r["id"]: r["username"] for r in store.rows("users")}
    for session in store.rows("sessions"):
        signatures = store.rows("signatures", order_by="id", session_id=session["id"])
        meanings = [s["meaning"] for s in signatures]
        if session["status"] == "signed":
            assert meanings == [NURSE_SIGNATURE, PROVIDER_SIGNATURE]
            nurse_sig, provider_sig = signatures
            assert nurse_sig["user_id"] == session["nurse_id"]
            assert provider_sig["user_id"] == session["provider_id"]
            assert users[session["provider_id"]] == "provider"
            assert provider_sig["content_hash"] == content_hash(
                session_content(store, session["id"]))
            assert session["discharge_at"] <= nurse_sig["at"] <= provider_sig["at"]
        elif session["status"] == "completed":
            assert meanings == [NURSE_SIGNATURE] and session["provider_id"] is None
        else:
            assert meanings == []
    # The audit log names who did what: nurses entered, the provider signed.
    who = {(r["username"], r["table_name"]) for r in store.audit_rows()}
    assert {("nurse", "vitals"), ("nurse2", "vitals"), ("provider", "signatures")} <= who
    assert ("provider", "vitals") not in who


def test_dose_timelines_valid_and_totals_plausible(shared):
    store, clock, demo = shared
    for session in store.rows("sessions"):
        events = dose_events(store, session["id"])
        state = dosing.validate_timeline(events)
        assert state == ("running" if session["status"] == "in_progress" else "stopped")
        end = clock.now() if state == "running" else from_iso(session["infusion_end_at"])
        total = dosing.running_total_mg(events, end)
        assert 0.2 <= total / session["weight_kg"] <= 4.0, session["id"]
        assert total <= session["bag_concentration_mg_per_ml"] * session["bag_volume_ml"]
        assert 50 <= session["weight_kg"] <= 120
        start = [e for e in events if e.kind == "start"]
        assert len(start) == 1 and start[0].at == from_iso(session["infusion_start_at"])
        assert date.fromisoformat(session["bag_expiry"]) > start[0].at.date()
        protocol = store.get("protocols", session["protocol_id"])
        assert start[0].rate_mg_per_h == pytest.approx(
            protocol["rate_mg_per_kg_per_h"] * session["weight_kg"], abs=0.1)
        assert 1 <= session["series_number"] <= session["series_total"]
        assert session["chair"] in {"Chair 1", "Chair 2", "Chair 3", "Chair 4"}


def test_every_vitals_row_plausible_with_map_and_alerts_as_recorded(shared):
    store, clock, demo = shared
    thresholds = AlertThresholds()
    alert_sessions: dict[str, set[int]] = {"sbp_mmhg": set(), "spo2_pct": set()}
    for row in store.rows("vitals"):
        values = {k: row[k] for k in VITALS if row[k] is not None}
        validate_vitals(values)
        assert row["map_derived"] == 1
        assert row["map_mmhg"] == derive_map_mmhg(row["sbp_mmhg"], row["dbp_mmhg"])
        alerts = json.loads(row["alerts"])
        assert alerts == [a.field for a in thresholds.evaluate(values)]
        for name in alerts:
            alert_sessions.setdefault(name, set()).add(row["session_id"])
    # A few sessions with a real alert, not a sea of red.
    assert 2 <= len(alert_sessions["sbp_mmhg"]) <= 8
    assert 1 <= len(alert_sessions["spo2_pct"]) <= 6
    assert len(alert_sessions) <= 4


def test_ketamine_blood_pressure_response_and_monitoring_rhythm(shared):
    store, clock, demo = shared
    rises, peaks = [], []
    for session in store.rows("sessions", status="signed"):
        readings = store.rows("vitals", order_by="at", session_id=session["id"])
        start, stop = (from_iso(session["infusion_start_at"]),
                       from_iso(session["infusion_end_at"]))
        baseline = readings[0]
        assert from_iso(baseline["at"]) < start and baseline["temp_c"] is not None
        top = max(readings, key=lambda r: r["sbp_mmhg"])
        rises.append(top["sbp_mmhg"] - baseline["sbp_mmhg"])
        peaks.append((from_iso(top["at"]) - start).total_seconds() / 60)
        during = [from_iso(r["at"]) for r in readings if start <= from_iso(r["at"]) <= stop]
        gaps = [(b - a).total_seconds() / 60 for a, b in zip(during, during[1:], strict=False)]
        assert all(g <= 16 for g in gaps), session["id"]
        assert from_iso(readings[-1]["at"]) > stop  # observed after the infusion
    assert 10 <= statistics.mean(rises) <= 24  # Yale: mean peak +16 mmHg
    assert 25 <= statistics.median(peaks) <= 50  # peaks around 30-40 min


def test_scores_side_effects_and_follow_ups_are_coherent(shared):
    store, clock, demo = shared
    sessions = {s["id"]: s for s in store.rows("sessions")}
    for row in store.rows("scores"):
        items = json.loads(row["items"])
        result = SCALES[row["scale"]].score(value=None if items else row["value"],
                                            items=items or None)
        assert result.total == row["value"]
    pre_post = []
    for sid, session in sessions.items():
        nrs = store.rows("scores", order_by="at", session_id=sid, scale="nrs")
        pre = [s["value"] for s in nrs if s["phase"] == "pre"]
        post = [s["value"] for s in nrs if s["phase"] == "post"]
        assert len(pre) == 1
        if session["status"] == "in_progress":
            assert post == []
            continue
        pre_post.append((pre[0], post[0]))
        aldrete = store.rows("scores", session_id=sid, scale="aldrete")
        assert len(aldrete) == 1 and aldrete[0]["value"] >= 9
        assert aldrete[0]["at"] <= session["discharge_at"]
        notes = store.rows("notes", session_id=sid)
        assert notes and all(n["author_id"] == session["nurse_id"] for n in notes)
    assert all(post <= pre for pre, post in pre_post)
    assert sum(post < pre for pre, post in pre_post) >= 0.7 * len(pre_post)

    with_effects = {e["session_id"] for e in store.rows("side_effects")}
    assert 0.15 <= len(with_effects) / len(sessions) <= 0.45
    for effect in store.rows("side_effects"):
        if effect["resolved_at"]:
            assert effect["onset_at"] <= effect["resolved_at"]
    drugs = {(a["drug"], a["dose"], a["unit"], a["route"])
             for a in store.rows("adjunct_medications")}
    assert ("ondansetron", 4.0, "mg", "IV") in drugs
    assert drugs & {("clonidine", 0.1, "mg", "PO"), ("labetalol", 10.0, "mg", "IV")}

    follow_ups = store.rows("follow_ups")
    assert len({f["session_id"] for f in follow_ups}) >= 0.4 * len(sessions)
    for f in follow_ups:
        session = sessions[f["session_id"]]
        assert from_iso(session["infusion_end_at"]) < from_iso(f["at"]) <= clock.now()
        assert f["nrs"] is not None or f["phq9"] is not None
    depression = {p["id"] for p in store.rows("patients", indication="depression")}
    phq = store.rows("scores", scale="phq9")
    assert phq and {sessions[s["session_id"]]["patient_id"] for s in phq} <= depression
    assert any(f["phq9"] is not None for f in follow_ups)


def test_patients_look_real(shared):
    store, clock, demo = shared
    patients = store.rows("patients")
    assert len({p["mrn"] for p in patients}) == len(patients)
    assert all(p["mrn"].startswith("K") and len(p["mrn"]) == 7 for p in patients)
    names = " ".join(p["given_name"] + " " + p["family_name"] for p in patients)
    assert "Zoë" in names and "Núñez" in names
    assert {p["indication"] for p in patients} == {
        r["indication"] for r in store.rows("protocols")}
    assert any(p["allergies"] for p in patients)
    today = clock.now().date()
    for p in patients:
        age = (today - date.fromisoformat(p["birth_date"])).days / 365.25
        assert 18 <= age <= 90
        first = min(s["arrival_at"] for s in store.rows("sessions", patient_id=p["id"]))
        assert p["consent_date"] < first[:10]
    starts = [from_iso(s["infusion_start_at"]) for s in store.rows("sessions")]
    assert clock.now() - min(starts) <= timedelta(days=183)
    assert max(starts) < clock.now()


def test_refused_unless_the_database_is_empty(store, clock):
    bootstrap_admin(store, clock, "admin", "a-long-password")
    before = store.table_counts()
    with pytest.raises(ServiceError, match="empty database"):
        create_demo(store, clock)
    assert store.table_counts() == before


def test_refused_twice(shared):
    store, clock, demo = shared
    with pytest.raises(ServiceError, match="empty database"):
        create_demo(store, clock)


def _content(tmp_path, name: str, clock: FixedClock, seed: int) -> dict[str, list]:
    store = open_store(tmp_path / name, FixedClock(clock.now()))
    try:
        create_demo(store, store.clock, seed=seed)
        content = {table: store.rows(table, order_by="id")
                   for table in ("patients", "sessions", "vitals", "dose_events", "scores",
                                 "follow_ups", "signatures")}
        for row in content["signatures"]:  # made with each user's fresh random key pair
            assert row.pop("signature")
        return content
    finally:
        store.close()


def test_same_seed_and_clock_give_the_same_clinic(tmp_path, clock):
    first = _content(tmp_path, "a.db", clock, seed=7)
    second = _content(tmp_path, "b.db", clock, seed=7)
    assert first == second
    other = _content(tmp_path, "c.db", clock, seed=8)
    assert other["patients"] != first["patients"]
    assert [v["sbp_mmhg"] for v in other["vitals"]] != [v["sbp_mmhg"] for v in first["vitals"]]
