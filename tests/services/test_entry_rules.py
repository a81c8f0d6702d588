"""Rules a reviewer found missing: a side effect resolves once; bag expiry is judged on the
clinic's calendar day; a protocol without an indication is judged by the patient's."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from ketalog.domain.entities import Bag, DoseKind, Severity
from ketalog.domain.errors import PlausibilityError
from ketalog.services import sessions as svc
from ketalog.services.errors import InvalidState, WarningsNotAcknowledged
from ketalog.services.patients import PatientInput, create_patient
from ketalog.services.planning import plan_for
from ketalog.services.protocols import ProtocolInput, create_protocol

pytestmark = pytest.mark.both_engines


@pytest.fixture
def patient(staffed):
    store, ctx = staffed
    return store, ctx, create_patient(ctx["nurse"], PatientInput(
        "D1", "Lind", "Eva", date(1985, 4, 4), indication="depression"))


def test_a_side_effect_is_resolved_once(patient, clock):
    store, ctx, p = patient
    nurse = ctx["nurse"]
    session = svc.start_session(nurse, svc.SessionStart(p.id, 60.0, Bag("ketamine", 1.0, 500)))
    onset = clock.now()
    clock.advance(minutes=20)
    se = svc.add_side_effect(nurse, session.id, "nausea", Severity.MILD, onset_at=onset)
    with pytest.raises(PlausibilityError, match="before onset"):
        svc.resolve_side_effect(nurse, se, resolved_at=onset - timedelta(minutes=1))
    svc.resolve_side_effect(nurse, se, resolved_at=onset + timedelta(minutes=10),
                            action="ondansetron 4 mg IV")
    with pytest.raises(InvalidState, match="already resolved"):
        svc.resolve_side_effect(nurse, se)
    row = store.get("side_effects", se)
    assert row["resolved_at"] == "2026-11-24T14:10:00.000Z" and row["action"] == "ondansetron 4 mg IV"


def test_bag_expiry_uses_the_clinic_calendar_day(patient, clock, monkeypatch):
    store, ctx, p = patient
    monkeypatch.setenv("TZ", "America/Los_Angeles")  # 02:00 UTC on the 25th is the 24th here
    import time

    time.tzset()
    try:
        clock.set(datetime(2026, 11, 25, 2, 0, tzinfo=UTC))
        session = svc.start_session(ctx["nurse"], svc.SessionStart(
            p.id, 60.0, Bag("ketamine", 1.0, 500, "L1", date(2026, 11, 24))))
        assert session.id  # still usable on its last local day
        clock.set(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))  # 01:00 on the 25th locally
        with pytest.raises(PlausibilityError, match="past its expiry"):
            svc.start_session(ctx["nurse"], svc.SessionStart(
                p.id, 60.0, Bag("ketamine", 1.0, 500, "L1", date(2026, 11, 24))))
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_a_protocol_without_indication_is_judged_by_the_patients(patient, clock):
    store, ctx, p = patient
    protocol = create_protocol(ctx["admin"], ProtocolInput(
        "House protocol", "", 0.0, 1.5, 60, 6, None, 10))
    plan = plan_for(ctx["nurse"], p.id, protocol.id, 60.0, 1.0)
    assert "rate_above_low_dose" in [w.code for w in plan.warnings]  # depression rules
    session = svc.start_session(ctx["nurse"], svc.SessionStart(
        p.id, 60.0, Bag("ketamine", 1.0, 500), protocol_id=protocol.id, series_total=6))
    with pytest.raises(WarningsNotAcknowledged) as caught:
        svc.record_dose(ctx["nurse"], session.id, DoseKind.START, rate_mg_per_h=90.0)  # 1.5 mg/kg/h: fine for pain
    assert "rate_above_low_dose" in [w.code for w in caught.value.warnings]
