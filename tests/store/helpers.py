"""Shared builders for the store tests: a fully signed session made through the services."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ketalog.domain.clock import FixedClock
from ketalog.domain.entities import Bag, DoseKind, Role, Severity
from ketalog.services import auth, sessions
from ketalog.services.context import Context
from ketalog.services.patients import PatientInput, create_patient
from ketalog.store.store import Store
from tests.readiness import ACK_READINESS

ADMIN_PW = "admin-password-1"
NURSE_PW = "nurse-password-1"
PROVIDER_PW = "provider-password-1"


@dataclass
class Staff:
    admin: Context
    nurse: Context
    provider: Context


@dataclass
class SignedSession:
    staff: Staff
    patient_id: int
    session_id: int
    content_hash: str


def make_staff(store: Store, clock: FixedClock) -> Staff:
    auth.bootstrap_admin(store, clock, "admin", ADMIN_PW, clinic_name="Test clinic")
    admin = auth.login(store, clock, "admin", ADMIN_PW)
    auth.add_user(admin, "nina", [Role.NURSE], NURSE_PW, display_name="Nina Nurse")
    auth.add_user(admin, "paul", [Role.PROVIDER], PROVIDER_PW, display_name="Dr Paul")
    return Staff(admin, auth.login(store, clock, "nina", NURSE_PW),
                 auth.login(store, clock, "paul", PROVIDER_PW))


def start_patient_session(staff: Staff, mrn: str = "MRN-001") -> tuple[int, int]:
    """(patient id, session id) of a fresh draft session."""
    nurse = staff.nurse
    patient = create_patient(nurse, PatientInput(
        mrn=mrn, family_name="Doe", given_name="Jane", birth_date=date(1980, 5, 17),
        sex="female", allergies="penicillin", indication="depression"))
    session = sessions.start_session(nurse, sessions.SessionStart(
        patient_id=patient.id, weight_kg=70.0,  # type: ignore[arg-type]
        bag=Bag("ketamine", 1.0, 100.0, lot="L123")))
    return patient.id, session.id  # type: ignore[return-value]


def build_signed_session(store: Store, clock: FixedClock) -> SignedSession:
    """One session with a row in every child table, completed by the nurse and signed by
    the provider."""
    staff = make_staff(store, clock)
    nurse = staff.nurse
    patient_id, sid = start_patient_session(staff)
    sessions.record_vitals(nurse, sid, {"sbp_mmhg": 128, "dbp_mmhg": 82, "hr_bpm": 74,
                                        "spo2_pct": 98})
    sessions.add_score(nurse, sid, "nrs", "pre", value=7)
    clock.advance(minutes=1)
    sessions.record_dose(nurse, sid, DoseKind.START, rate_mg_per_h=35.0, acknowledge=True)
    clock.advance(minutes=10)
    sessions.record_vitals(nurse, sid, {"sbp_mmhg": 142, "dbp_mmhg": 88, "hr_bpm": 80,
                                        "spo2_pct": 97})
    sessions.add_adjunct(nurse, sid, "ondansetron", 4, "mg", "IV", reason="nausea")
    sessions.add_side_effect(nurse, sid, "nausea", Severity.MILD, action="ondansetron")
    sessions.add_note(nurse, sid, "Patient comfortable, mild nausea treated.")
    clock.advance(minutes=30)
    sessions.record_dose(nurse, sid, DoseKind.STOP)
    sessions.add_score(nurse, sid, "nrs", "post", value=3)
    clock.advance(minutes=30)
    sessions.complete_session(nurse, sid, escort="husband", instructions="no driving", acknowledged=ACK_READINESS)
    clock.advance(minutes=5)
    digest = sessions.sign_session(staff.provider, sid, PROVIDER_PW)
    return SignedSession(staff, patient_id, sid, digest)


def raw_connect(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection: no ketalog code, autocommit, short busy wait."""
    return sqlite3.connect(str(path), isolation_level=None, timeout=5)


def dump(conn: sqlite3.Connection, table: str) -> list[tuple[object, ...]]:
    return conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
