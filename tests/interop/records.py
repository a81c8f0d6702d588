"""Records with every kind of entry, built through the services as the GUI would."""

from __future__ import annotations

from datetime import date

from ketalog.domain.entities import Bag, DoseKind
from ketalog.services import sessions as svc
from ketalog.services.patients import PatientInput, create_patient
from ketalog.services.protocols import list_protocols
from tests.readiness import ACK_READINESS

NOTE = 'Patient said: "feels floaty, 3/10", asked for water,\nthen slept; 2nd line; ünïcode'


def new_patient(ctx, mrn: str = "K0001"):
    return create_patient(ctx["nurse"], PatientInput(
        mrn, "Núñez", "Zoë", date(1980, 5, 17), "female", allergies="penicillin",
        indication="neuropathic pain"))


def start(ctx, patient, clock, series: int = 1):
    nurse = ctx["nurse"]
    protocol = next(p for p in list_protocols(nurse) if p.indication == "neuropathic pain")
    return svc.start_session(nurse, svc.SessionStart(
        patient.id, 82.0, Bag("ketamine", 1.0, 500, "LOT1", date(2027, 6, 30)),
        protocol_id=protocol.id, chair="Chair 2", series_number=series, series_total=6,
        provider_id=ctx["provider"].user.id))


def full_session(ctx, patient, clock, *, sign: bool = True, series: int = 1):
    """About 3 h of infusion: every dose kind, vitals (manual, device, artifact, alerts,
    zeros), adjuncts, side effects, all scales, a note, nurse and provider signatures,
    an addendum and a follow-up. Returns the session id; the clock ends after it."""
    nurse, provider = ctx["nurse"], ctx["provider"]
    session = start(ctx, patient, clock, series)
    sid = session.id
    svc.add_score(nurse, sid, "nrs", "pre", value=7)
    svc.add_score(nurse, sid, "phq9", "pre", items={f"item_{i}": 1 for i in range(1, 10)})
    svc.record_vitals(nurse, sid, {"sbp_mmhg": 128, "dbp_mmhg": 82, "hr_bpm": 72,
                                   "spo2_pct": 98, "rr_per_min": 14, "temp_c": 36.6})
    clock.advance(minutes=5)
    svc.record_dose(nurse, sid, DoseKind.BOLUS, bolus_mg=20.0, reason="loading dose")
    svc.record_dose(nurse, sid, DoseKind.START, rate_mg_per_h=41.0)
    clock.advance(minutes=30)
    svc.record_vitals(nurse, sid, {"sbp_mmhg": 186, "dbp_mmhg": 98, "map_mmhg": 127,
                                   "hr_bpm": 96, "spo2_pct": 96, "rr_per_min": 0,
                                   "etco2_mmhg": 38}, source="device:Philips MX450")
    bad = svc.record_vitals(nurse, sid, {"sbp_mmhg": 250, "dbp_mmhg": 60, "hr_bpm": 140},
                            source="device:Philips MX450")
    svc.mark_artifact(nurse, bad.id, "arm moved during NIBP cycle")
    svc.add_side_effect(nurse, sid, "nausea", "moderate", action="rate halved, ondansetron",
                        note="after 30 min")
    svc.add_adjunct(nurse, sid, "ondansetron", 4, "mg", "IV", "nausea")
    svc.add_score(nurse, sid, "moaas", "intra", value=4)
    svc.add_score(nurse, sid, "cadss6", "intra", items={f"item_{i}": 1 for i in
                                                        (1, 2, 6, 7, 15, 22)})
    svc.record_dose(nurse, sid, DoseKind.RATE_CHANGE, rate_mg_per_h=20.5,
                    reason="nausea, rate halved", acknowledge=True)
    clock.advance(minutes=30)
    svc.add_side_effect(nurse, sid, "dizziness", "mild", onset_at=clock.now(),
                        resolved_at=clock.now())
    svc.record_dose(nurse, sid, DoseKind.PAUSE, reason="bathroom")
    clock.advance(minutes=10)
    svc.record_dose(nurse, sid, DoseKind.RESUME)
    svc.add_note(nurse, sid, NOTE)
    clock.advance(minutes=60)
    svc.record_vitals(nurse, sid, {"sbp_mmhg": 132, "dbp_mmhg": 84, "hr_bpm": 80,
                                   "spo2_pct": 97})
    svc.record_dose(nurse, sid, DoseKind.STOP)
    svc.add_score(nurse, sid, "nrs", "post", value=3)
    svc.add_score(nurse, sid, "aldrete", "post", value=10)
    svc.add_score(nurse, sid, "padss", "post", value=8)
    clock.advance(minutes=30)
    svc.complete_session(nurse, sid, escort="husband", acknowledged=ACK_READINESS)
    if sign:
        clock.advance(minutes=5)
        from tests.conftest import PASSWORDS
        svc.sign_session(provider, sid, PASSWORDS["provider"])
        svc.add_addendum(provider, sid, "late information", "Patient called: fine at home.")
        clock.advance(hours=24)
        svc.add_follow_up(nurse, sid, nrs=4, relief_hours=20, note="phone, relief 20 h")
    clock.advance(hours=1)
    return sid
