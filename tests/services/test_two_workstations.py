"""Two workstations on the real test server editing the same records: the later edit
from a stale screen is refused with the name of whoever changed it first, nothing is
lost, and a write waiting behind another workstation's never reaches the user as busy."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import date

import pytest

from ketalog.domain.entities import Bag, Role, SessionStatus
from ketalog.services import sessions as svc
from ketalog.services.auth import add_user, bootstrap_admin, login
from ketalog.services.errors import EditConflict, ServiceError
from ketalog.services.patients import PatientInput, create_patient, get_patient, update_patient
from ketalog.services.protocols import (
    ProtocolInput,
    create_protocol,
    get_protocol,
    list_protocols,
    seed_protocols,
    update_protocol,
)
from ketalog.store.pg_connection import open_server_store
from ketalog.store.pg_engine import WRITE_LOCK
from ketalog.store.store import SYSTEM
from tests.pg_clinic import WORKSTATION_LOGIN
from tests.readiness import ACK_READINESS

pytest.importorskip("psycopg", reason="psycopg is not installed")


@pytest.fixture
def clinic(pg_clinic, clock, monkeypatch):
    """{name: Context}: the admin and nurse1 on workstation a, nurse2 and the admin
    again on workstation b (two stores, two connections)."""
    a, b = (open_server_store(pg_clinic.conninfo(WORKSTATION_LOGIN), clock) for _ in "ab")
    bootstrap_admin(a, clock, "admin", "admin-pass-1", "Ada Admin", "Test Clinic")
    admin = login(a, clock, "admin", "admin-pass-1")
    add_user(admin, "nurse1", [Role.NURSE], "nurse-pass-1", "Nina One", "RN")
    add_user(admin, "nurse2", [Role.NURSE], "nurse-pass-2", "Nora Two", "RN")
    seed_protocols(a, SYSTEM)
    yield {"admin": admin, "nurse1": login(a, clock, "nurse1", "nurse-pass-1"),
           "nurse2": login(b, clock, "nurse2", "nurse-pass-2"),
           "admin_b": login(b, clock, "admin", "admin-pass-1"), "conninfo":
           pg_clinic.conninfo(WORKSTATION_LOGIN)}
    a.close()
    b.close()


def _form(patient, **changes):  # noqa: ANN001, ANN003
    """What the patient form sends: every field, some changed."""
    data = PatientInput(patient.mrn, patient.family_name, patient.given_name,
                        patient.birth_date, patient.sex, patient.allergies,
                        patient.indication, patient.referring_provider,
                        patient.contraindication_screen, patient.consent_date, patient.notes)
    return replace(data, **changes)


def test_a_stale_patient_form_is_refused_naming_who_changed_it(clinic):
    nurse1, nurse2 = clinic["nurse1"], clinic["nurse2"]
    made = create_patient(nurse1, PatientInput("K1", "Okafor", "Ada", date(1980, 2, 3)))
    on_a = get_patient(nurse1, made.id)  # both screens open the same patient
    on_b = get_patient(nurse2, made.id)
    update_patient(nurse2, made.id, _form(on_b, allergies="penicillin"), loaded=on_b)
    # a field nobody else touched is saved from the older screen, the other change kept
    update_patient(nurse1, made.id, _form(on_a, notes="prefers the window chair"),
                   loaded=on_a)
    now = get_patient(nurse1, made.id)
    assert (now.allergies, now.notes) == ("penicillin", "prefers the window chair")
    # the field the other workstation changed is not overwritten from the stale screen
    with pytest.raises(EditConflict) as refused:
        update_patient(nurse1, made.id, _form(on_a, allergies="latex"), loaded=on_a)
    assert str(refused.value).startswith("Nora Two (nurse2) changed this patient at ")
    assert "(allergies); your changes were not saved" in str(refused.value)
    assert get_patient(nurse2, made.id).allergies == "penicillin"  # no lost update
    # reloaded, the same edit goes through
    fresh = get_patient(nurse1, made.id)
    update_patient(nurse1, made.id, _form(fresh, allergies="penicillin, latex"), loaded=fresh)
    assert get_patient(nurse2, made.id).allergies == "penicillin, latex"


def test_a_stale_protocol_form_is_refused(clinic):
    admin_a, admin_b = clinic["admin"], clinic["admin_b"]
    made = create_protocol(admin_a, ProtocolInput("Trial 0.5", "CRPS", 0.0, 0.5, 120, 6,
                                                  None, 10))
    on_a, on_b = get_protocol(admin_a, made.id), get_protocol(admin_b, made.id)
    data = ProtocolInput(on_b.name, on_b.indication, on_b.bolus_mg_per_kg, 0.4,
                         on_b.duration_min, on_b.series_length, on_b.max_total_mg,
                         on_b.monitoring_interval_min)
    update_protocol(admin_b, made.id, data, "lower rate", loaded=on_b)
    with pytest.raises(EditConflict, match=r"^Ada Admin \(admin\) changed this protocol"):
        update_protocol(admin_a, made.id, replace(data, rate_mg_per_kg_per_h=0.6), "higher",
                        loaded=on_a)
    assert get_protocol(admin_a, made.id).rate_mg_per_kg_per_h == 0.4


def _completed_session(ctx) -> int:  # noqa: ANN001
    patient = create_patient(ctx, PatientInput("K9", "Lindqvist", "Åsa", date(1971, 4, 2)))
    protocol = next(p for p in list_protocols(ctx) if p.indication == "neuropathic pain")
    sid = svc.start_session(ctx, svc.SessionStart(
        patient.id, 80.0, Bag("ketamine", 1.0, 500, "L1", date(2027, 1, 1)),
        protocol_id=protocol.id, chair="Chair 1")).id
    svc.record_dose(ctx, sid, "start", rate_mg_per_h=40.0, acknowledge=True)
    svc.record_dose(ctx, sid, "stop", acknowledge=True)
    svc.complete_session(ctx, sid, acknowledged=ACK_READINESS)
    return sid


def _holding_the_write_lock(conninfo: str):  # noqa: ANN202
    import psycopg

    holder = psycopg.connect(conninfo, autocommit=True)
    holder.execute("BEGIN")
    holder.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
    return holder


def test_two_workstations_reopening_one_session_at_once_reopen_it_once(clinic):
    nurse1, nurse2 = clinic["nurse1"], clinic["nurse2"]
    sid = _completed_session(nurse1)
    holder = _holding_the_write_lock(clinic["conninfo"])  # both read, then queue
    outcomes: dict[str, object] = {}

    def reopen(name: str) -> None:
        try:
            svc.reopen_session(clinic[name], sid, f"{name} adds a note")
            outcomes[name] = "reopened"
        except ServiceError as exc:
            outcomes[name] = exc

    threads = [threading.Thread(target=reopen, args=(n,)) for n in ("nurse1", "nurse2")]
    for t in threads:
        t.start()
    time.sleep(0.5)
    holder.execute("COMMIT")
    holder.close()
    for t in threads:
        t.join(30)
    assert sorted(str(type(v).__name__) for v in outcomes.values()) == ["EditConflict", "str"]
    refused = next(v for v in outcomes.values() if isinstance(v, EditConflict))
    assert "changed this session at" in str(refused) and "(status)" in str(refused)
    assert svc.read_session(nurse2, sid).status is SessionStatus.IN_PROGRESS


def test_a_write_waits_for_another_workstations_lock_instead_of_busy(clinic):
    nurse1 = clinic["nurse1"]
    nurse1.store.conn.execute("SET lock_timeout = '300ms'")  # the product waits 10 s, twice
    holder = _holding_the_write_lock(clinic["conninfo"])
    threading.Timer(0.45, lambda: (holder.execute("COMMIT"), holder.close())).start()
    started = time.perf_counter()
    made = create_patient(nurse1, PatientInput("W1", "Waits", "Wendy", date(1990, 1, 1)))
    waited = time.perf_counter() - started
    assert made.id and 0.4 < waited < 5  # past the first timeout: retried, then saved


def test_a_lock_held_past_both_waits_is_busy_and_the_store_still_works(clinic):
    nurse1 = clinic["nurse1"]
    nurse1.store.conn.execute("SET lock_timeout = '100ms'")
    holder = _holding_the_write_lock(clinic["conninfo"])
    try:
        with pytest.raises(ServiceError, match="busy"):
            create_patient(nurse1, PatientInput("W2", "Busy", "Bea", date(1990, 1, 1)))
    finally:
        holder.execute("COMMIT")
        holder.close()
    assert create_patient(nurse1, PatientInput("W2", "Busy", "Bea", date(1990, 1, 1))).id


def test_the_live_changes_service_hands_over_the_other_workstations_changes(clinic):
    from ketalog.services.live_changes import (
        close_subscription,
        subscribe,
        take_changes,
        wait_for_changes,
    )

    nurse1, nurse2 = clinic["nurse1"], clinic["nurse2"]
    feed = subscribe(nurse2)  # workstation b listens
    try:
        assert feed.live and feed.fileno is not None and take_changes(feed) == []
        create_patient(nurse2, PatientInput("O1", "Own", "Write", date(1990, 1, 1)))
        made = create_patient(nurse1, PatientInput("O2", "Other", "Write", date(1990, 1, 1)))
        changes = wait_for_changes(feed, 2.0)
        time.sleep(0.1)
        changes += take_changes(feed)
        assert [(c.table, c.action, c.patient_id, c.by) for c in changes] == [
            ("patients", "insert", made.id, "nurse1")]  # b's own write is b's to show
    finally:
        close_subscription(feed)
    assert take_changes(feed) == [] and feed.fileno is None
