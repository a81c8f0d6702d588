"""Access control through the services, with a fixed clock: lockout, unlock with a
reason, auto-logoff, user administration, break-glass emergency access and its review."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ketalog.domain.clock import from_iso, to_iso
from ketalog.domain.entities import Bag, Role
from ketalog.services import emergency as em
from ketalog.services import sessions as svc
from ketalog.services.auth import (
    MAX_FAILED_LOGINS,
    add_user,
    login,
    reauthenticate,
    set_password,
    unlock,
)
from ketalog.services.errors import (
    AccountLocked,
    EmergencyAccessEnded,
    LoginFailed,
    PermissionDenied,
    ServiceError,
)
from ketalog.services.logoff import EMERGENCY_ENDED, IDLE, logoff_due, record_logoff
from ketalog.services.patients import PatientInput, create_patient
from ketalog.services.users import set_active
from ketalog.store.verify import verify_store
from tests.readiness import ACK_READINESS

pytestmark = pytest.mark.both_engines

REASON = "Provider locked out mid-infusion, chair 2, K1"


def _lock(store, clock, username: str, password_for_reentry: str | None = None) -> None:
    for _ in range(MAX_FAILED_LOGINS):
        with pytest.raises((LoginFailed, AccountLocked)):
            login(store, clock, username, "wrong")
        clock.advance(seconds=5)


def test_login_and_signature_failures_share_one_counter_and_lock(staffed, clock):
    store, ctx = staffed
    for _ in range(2):
        with pytest.raises(LoginFailed):
            reauthenticate(ctx["provider"], "typo", "signature")
    clock.advance(minutes=1)
    for _ in range(MAX_FAILED_LOGINS - 3):
        with pytest.raises(LoginFailed):
            login(store, clock, "provider", "typo")
    locked_at = clock.advance(minutes=1)
    with pytest.raises(AccountLocked, match="now locked"):
        login(store, clock, "provider", "typo")
    with pytest.raises(AccountLocked):
        login(store, clock, "provider", "provider-pass-1")  # the right password too
    row = store.get_by("users", username="provider")
    assert (row["locked"], row["failed_logins"]) == (1, MAX_FAILED_LOGINS)
    lock_entry = next(r for r in reversed(store.audit_rows()) if r["action"] == "login_failed")
    assert lock_entry["at"] == to_iso(locked_at) and '"locked": true' in lock_entry["new_values"]
    kinds = [r["action"] for r in store.audit_rows() if r["action"].endswith("_failed")]
    assert kinds.count("signature_failed") == 2 and kinds.count("login_failed") == 3


def test_unlock_needs_a_reason_and_is_audited(staffed, clock):
    store, ctx = staffed
    _lock(store, clock, "nurse")
    before = store.count("audit_log")
    for reason in ("", "   "):
        with pytest.raises(ServiceError, match="reason"):
            unlock(ctx["admin"], "nurse", reason)
    assert store.count("audit_log") == before  # nothing written
    with pytest.raises(ServiceError, match="no user named"):
        unlock(ctx["admin"], "nobody", "typo")
    clock.advance(minutes=3)
    unlock(ctx["admin"], "nurse", "identity checked in person")
    entry = store.audit_rows()[-1]
    assert (entry["username"], entry["action"], entry["table_name"], entry["reason"],
            entry["at"]) == ("admin", "update", "users", "identity checked in person",
                             to_iso(clock.now()))
    assert '"locked": 0' in entry["new_values"] and '"locked": 1' in entry["old_values"]
    assert login(store, clock, "nurse", "nurse-pass-1").user.failed_logins == 0
    assert verify_store(store) == []


def test_auto_logoff_after_the_idle_minutes_by_the_clock(staffed, clock):
    from ketalog.services.settings import set_clinic_setting

    store, ctx = staffed
    set_clinic_setting(ctx["admin"], "auto_logoff_min", 10, "shared workstation")
    nurse = ctx["nurse"]
    last_input = clock.now()
    clock.advance(minutes=9, seconds=59)
    assert logoff_due(nurse, last_input) is None
    clock.advance(seconds=1)
    assert logoff_due(nurse, last_input) == IDLE
    record_logoff(nurse, IDLE)
    entry = store.audit_rows()[-1]
    assert (entry["action"], entry["username"], entry["at"]) == (
        "auto_logoff", "nurse", to_iso(clock.now()))
    assert '"idle_minutes": 10.0' in entry["new_values"]


def test_user_administration_add_reset_deactivate_reactivate(staffed, clock):
    store, ctx = staffed
    admin = ctx["admin"]
    add_user(admin, "rn2", [Role.NURSE], "first-password", "Rita Nurse", "RN")
    set_password(admin, "rn2", "second-password")
    with pytest.raises(LoginFailed):
        login(store, clock, "rn2", "first-password")
    assert login(store, clock, "rn2", "second-password").user.display_name == "Rita Nurse"
    with pytest.raises(ServiceError, match="reason"):
        set_active(admin, "rn2", False, "")
    set_active(admin, "rn2", False, "left the clinic")
    with pytest.raises(LoginFailed):
        login(store, clock, "rn2", "second-password")
    assert store.audit_rows()[-2]["reason"] == "left the clinic"
    set_active(admin, "rn2", True, "came back")
    assert login(store, clock, "rn2", "second-password").user.active
    with pytest.raises(ServiceError, match="your own account"):
        set_active(admin, "admin", False, "testing")
    add_user(admin, "boss", [Role.ADMIN, Role.PROVIDER], "boss-password", "Bo Boss")
    boss = login(store, clock, "boss", "boss-password")
    set_active(boss, "admin", False, "handover")  # another admin remains: allowed
    with pytest.raises(LoginFailed):
        login(store, clock, "admin", "admin-pass-1")
    with pytest.raises(ServiceError, match="last active admin"):
        set_active(admin, "boss", False, "stale window")  # admin's context predates it
    set_active(boss, "admin", True, "back")
    assert set_active(admin, "boss", False, "two admins again").active is False


# -- break-glass ----------------------------------------------------------------
def _patient_session(ctx):
    nurse = ctx["nurse"]
    patient = create_patient(nurse, PatientInput("K1", "Lind", "Eva", date(1970, 1, 1)))
    session = svc.start_session(nurse, svc.SessionStart(patient.id, 70, Bag("ketamine", 1, 500)))
    return patient, session


def test_emergency_access_needs_a_reason_and_the_users_own_password(staffed, clock):
    store, _ = staffed
    before = store.count("audit_log")
    for reason in ("", "urgent"):
        with pytest.raises(em.EmergencyRefused, match="reason"):
            em.start_emergency(store, clock, "provider", "provider-pass-1", reason)
    assert store.count("audit_log") == before and store.count("emergency_access") == 0
    with pytest.raises(LoginFailed):
        em.start_emergency(store, clock, "provider", "wrong", REASON)
    assert store.get_by("users", username="provider")["failed_logins"] == 1
    with pytest.raises(LoginFailed):
        em.start_emergency(store, clock, "ghost", "x", REASON)
    assert store.count("emergency_access") == 0
    assert [r["action"] for r in store.audit_rows()][-2:] == [
        "emergency_access_failed", "emergency_access_failed"]


def test_locked_provider_breaks_the_glass_for_60_minutes_loudly_audited(staffed, clock):
    store, ctx = staffed
    patient, session = _patient_session(ctx)
    _lock(store, clock, "provider")
    started = clock.now()
    grant = em.start_emergency(store, clock, "provider", "provider-pass-1", REASON)
    assert grant.emergency is not None
    assert grant.emergency.expires_at == started + timedelta(minutes=em.EMERGENCY_MINUTES)
    assert grant.roles == {Role.NURSE, Role.PROVIDER}
    assert store.get_by("users", username="provider")["locked"] == 1  # stays locked
    row = store.get("emergency_access", grant.emergency.id)
    assert (row["reason"], row["account_was_locked"], row["reviewed_at"]) == (REASON, 1, None)
    started_entry = store.audit_rows()[-1]
    assert started_entry["action"] == "emergency_access_started"
    assert started_entry["reason"] == REASON

    clock.advance(minutes=5)
    svc.record_vitals(grant, session.id, {"sbp_mmhg": 128, "dbp_mmhg": 80, "hr_bpm": 72})
    tagged = store.audit_rows()[-1]
    assert tagged["username"] == f"provider [emergency #{grant.emergency.id}]"
    assert tagged["user_id"] == grant.user.id and tagged["table_name"] == "vitals"
    with pytest.raises(PermissionDenied, match="normal login"):
        svc.complete_session(grant, session.id, acknowledged=ACK_READINESS)
    with pytest.raises(PermissionDenied, match="admin"):
        add_user(grant, "x", [Role.NURSE], "long-password")

    clock.set(grant.emergency.expires_at)  # exactly at expiry: over
    assert logoff_due(grant, clock.now()) == EMERGENCY_ENDED
    before = store.count("audit_log")
    with pytest.raises(EmergencyAccessEnded, match="ended at"):
        svc.record_vitals(grant, session.id, {"hr_bpm": 70})
    assert store.count("audit_log") == before and store.count("vitals") == 1
    record_logoff(grant, EMERGENCY_ENDED)
    ended = store.get("emergency_access", grant.emergency.id)
    assert from_iso(ended["ended_at"]) == grant.emergency.expires_at
    assert store.audit_rows()[-1]["action"] == "emergency_access_ended"
    assert verify_store(store) == []


def test_locked_account_gets_only_a_few_more_tries(staffed, clock):
    store, _ = staffed
    _lock(store, clock, "nurse")
    for _ in range(em.EXTRA_TRIES_WHEN_LOCKED):
        with pytest.raises(LoginFailed):
            em.start_emergency(store, clock, "nurse", "guess", REASON)
    with pytest.raises(AccountLocked, match="closed"):
        em.start_emergency(store, clock, "nurse", "nurse-pass-1", REASON)  # even right
    assert store.count("emergency_access") == 0
    assert store.audit_rows()[-1]["action"] == "emergency_access_refused"


def test_admins_review_pending_emergency_accesses_with_a_note(staffed, clock):
    store, ctx = staffed
    _, session = _patient_session(ctx)
    grant = em.start_emergency(store, clock, "nurse", "nurse-pass-1", REASON)
    svc.record_vitals(grant, session.id, {"hr_bpm": 80})
    svc.record_vitals(grant, session.id, {"hr_bpm": 82})
    em.end_emergency(grant)
    em.end_emergency(grant)  # idempotent
    assert store.count("audit_log", action="emergency_access_ended") == 1
    with pytest.raises(PermissionDenied):
        em.pending_reviews(ctx["nurse"])
    pending = em.pending_reviews(ctx["admin"])
    assert [(p.id, p.username, p.reason, p.entries) for p in pending] == [
        (grant.emergency.id, "nurse", REASON, 4)]  # 2 vitals, the end (update + event)
    with pytest.raises(ServiceError, match="note"):
        em.review_emergency(ctx["admin"], grant.emergency.id, " ")
    with pytest.raises(PermissionDenied):
        em.review_emergency(ctx["provider"], grant.emergency.id, "fine")
    clock.advance(hours=20)
    em.review_emergency(ctx["admin"], grant.emergency.id, "Checked with RN; chart complete")
    assert em.pending_reviews(ctx["admin"]) == []
    row = store.get("emergency_access", grant.emergency.id)
    assert (row["reviewed_at"], row["reviewed_by"], row["review_note"]) == (
        to_iso(clock.now()), ctx["admin"].user.id, "Checked with RN; chart complete")
    assert store.audit_rows()[-1]["action"] == "emergency_access_reviewed"
    with pytest.raises(ServiceError, match="already reviewed"):
        em.review_emergency(ctx["admin"], grant.emergency.id, "again")
