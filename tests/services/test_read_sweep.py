"""Reads are checked like writes: every service the screens read patients' records
through takes the Context and refuses a context that may not read (here an emergency
grant past its time limit), before any row is read; the same calls work for a nurse."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from ketalog.domain.entities import Patient
from ketalog.services import (
    alarms,
    allergies,
    chairs,
    course,
    device_feed_choices,
    device_feed_settings,
    device_vitals,
    emergency,
    formulary,
    indications,
    planning,
    record,
    series,
    sessions,
    settings,
    summary,
    vitals_series,
)
from ketalog.services.context import Context
from ketalog.services.emergency import EMERGENCY_MINUTES
from ketalog.services.errors import PermissionDenied
from ketalog.services.patients import PatientInput, create_patient, get_patient, search_patients
from ketalog.services.protocols import seed_protocols
from ketalog.store.store import SYSTEM
from tests.store.helpers import NURSE_PW, build_signed_session

pytestmark = pytest.mark.both_engines


def reads(session_id: int, patient_id: int, patients: list[Patient]
          ) -> dict[str, Callable[[Context], object]]:
    """Every Context-taking read service the GUI calls for clinical data."""
    return {
        "patients.search_patients": lambda c: search_patients(c, ""),
        "summary.today_board": lambda c: summary.today_board(c, c.clock.now()),
        "summary.session_lines": lambda c: summary.session_lines(c, patient_id, c.clock.now()),
        "series.planned_sessions": lambda c: series.planned_sessions(c, 14),
        "alarms.sessions_with_pending_alarms": lambda c: alarms.sessions_with_pending_alarms(
            c, [session_id]),
        "alarms.live_alarms": lambda c: alarms.live_alarms(c, session_id),
        "allergies.allergy_texts": lambda c: allergies.allergy_texts(c, patients),
        "record.load_record": lambda c: record.load_record(c, session_id),
        "course.load_course": lambda c: course.load_course(c, patient_id, now=c.clock.now()),
        "vitals_series.load_vitals_columns": lambda c: vitals_series.load_vitals_columns(
            c, session_id),
        "vitals_series.load_vitals": lambda c: vitals_series.load_vitals(c, [1, 2]),
        "device_vitals.vitals_since": lambda c: device_vitals.vitals_since(c, session_id, 0),
        "device_vitals.device_times": lambda c: device_vitals.device_times(c, session_id),
        "device_feed_choices.open_session_choices":
            device_feed_choices.open_session_choices,
        "sessions.read_session": lambda c: sessions.read_session(c, session_id),
        "sessions.check_adjunct": lambda c: sessions.check_adjunct(
            c, session_id, "ondansetron", 4, "mg", "IV"),
        "allergies.patient_allergies": lambda c: allergies.patient_allergies(c, patient_id),
        "patients.get_patient": lambda c: get_patient(c, patient_id),
        "chairs.occupants_of": lambda c: chairs.occupants_of(c, "Chair 1"),
        "chairs.first_free": lambda c: chairs.first_free(c, ["Chair 1", "Chair 2"]),
        "planning.list_providers": planning.list_providers,
        "planning.next_series_number": lambda c: planning.next_series_number(
            c, patient_id, int(c.store.rows("protocols", order_by="id")[0]["id"])),
        "series.open_series": lambda c: series.open_series(c, patient_id),
        "settings.alert_thresholds": settings.alert_thresholds,
        "device_feed_settings.feed_settings": device_feed_settings.feed_settings,
        "formulary.formulary": formulary.formulary,
        "indications.list_indications": indications.list_indications,
    }


def _reads(signed) -> dict[str, Callable[[Context], object]]:  # noqa: ANN001
    return reads(signed.session_id, signed.patient_id, search_patients(signed.staff.nurse, ""))


@pytest.fixture
def world(store, clock):
    signed = build_signed_session(store, clock)
    seed_protocols(store, SYSTEM)
    create_patient(signed.staff.nurse, PatientInput("R2", "Read", "Sweep", date(1980, 1, 1)))
    grant = emergency.start_emergency(store, clock, "nina", NURSE_PW,
                                      "read sweep: does an expired grant still read?")
    return store, clock, signed, grant


def test_every_read_works_for_a_nurse(world):
    _, _, signed, _ = world
    for call in _reads(signed).values():
        call(signed.staff.nurse)  # raises if refused or broken


def test_every_read_is_refused_once_an_emergency_grant_expired(world):
    store, clock, signed, grant = world
    for call in _reads(signed).values():
        call(grant)  # within its time limit the grant reads
    clock.advance(minutes=EMERGENCY_MINUTES + 1)
    before = store.count("audit_log")
    allowed = []
    for name, call in _reads(signed).items():
        try:
            call(grant)
        except PermissionDenied:
            continue
        allowed.append(name)
    assert allowed == []
    assert store.count("audit_log") == before  # refused before reading (no view entry)


def test_configuration_reads_without_login_match_the_checked_ones(world):
    """The listener's and the store-level checks' readers see what a nurse sees."""
    store, _, signed, _ = world
    nurse = signed.staff.nurse
    assert settings.alert_thresholds_without_login(store) == settings.alert_thresholds(nurse)
    assert device_feed_settings.feed_settings_for_listener(store) == \
        device_feed_settings.feed_settings(nurse)
    assert formulary.formulary_entries(store) == formulary.formulary(nurse)
    assert [i.name for i in indications.list_indications(nurse)] == [
        i.name for i in indications.list_indications(nurse, include_retired=True)
        if not i.retired]
