"""Allergy cross-check, adjunct formulary and alarm acknowledgement through the services:
refused without a reason, stored with it, audited, signed with the session."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketalog.domain.allergies import Allergy, allergy_warnings, parse_free_text
from ketalog.domain.entities import Bag, DoseKind
from ketalog.domain.errors import PlausibilityError
from ketalog.domain.formulary import FormularyEntry
from ketalog.services import alarms, allergies, formulary
from ketalog.services import sessions as svc
from ketalog.services.drug_tables import drug_class_table
from ketalog.services.errors import PermissionDenied, WarningsNotAcknowledged
from ketalog.services.patients import PatientInput, create_patient
from ketalog.services.record import load_record
from ketalog.store.verify import verify_store
from tests.readiness import ACK_READINESS

pytestmark = pytest.mark.both_engines


@pytest.fixture
def live(staffed, clock):
    store, ctx = staffed
    nurse = ctx["nurse"]
    patient = create_patient(nurse, PatientInput("K0001", "Núñez", "Zoë", date(1980, 5, 17),
                                                 "female", allergies="morphine (itching)",
                                                 indication="neuropathic pain"))
    session = svc.start_session(nurse, svc.SessionStart(
        patient.id, 82.0, Bag("ketamine", 1.0, 500, "LOT1", date(2027, 6, 30)),
        chair="Chair 2"))
    return store, ctx, session, patient


def test_free_text_parses_into_entries():
    assert parse_free_text("penicillin (rash, hives); morphine (itching)") == [
        Allergy("penicillin", "rash, hives"), Allergy("morphine", "itching")]
    assert parse_free_text("NKDA") == [] and parse_free_text("  ") == []
    assert parse_free_text("latex") == [Allergy("latex")]


@given(st.text(max_size=60))
def test_free_text_parser_never_loses_a_piece(text):
    entries = parse_free_text(text)
    for entry in entries:
        assert entry.substance.strip()
        assert entry.substance in text


def test_reported_case_morphine_itching_warns_and_needs_a_reason(live):
    store, ctx, session, _ = live
    nurse = ctx["nurse"]
    with pytest.raises(WarningsNotAcknowledged) as info:
        svc.add_adjunct(nurse, session.id, "morphine", 2, "mg", "IV", "pain")
    (warning,) = info.value.warnings
    assert "morphine (itching)" in warning.message
    assert store.count("adjunct_medications") == 0
    with pytest.raises(WarningsNotAcknowledged):  # a blank reason is no reason
        svc.add_adjunct(nurse, session.id, "morphine", 2, "mg", "IV", "pain",
                        acknowledgement="   ")
    svc.add_adjunct(nurse, session.id, "morphine", 2, "mg", "IV", "pain",
                    acknowledgement="itching only; provider agreed")
    record = load_record(ctx["nurse"], session.id)
    (ack,) = record.acknowledgements
    assert (ack.kind, ack.response, ack.subject_uuid) == (
        "allergy", "itching only; provider agreed", record.adjuncts[0].uuid)
    assert "morphine (itching)" in ack.warning
    audit = store.audit_rows()[-1]
    assert (audit["table_name"], audit["reason"]) == ("acknowledgements",
                                                      "itching only; provider agreed")


def test_class_match_warns_with_the_table_source(live):
    store, ctx, session, patient = live
    allergies.add_allergy(ctx["nurse"], patient.id, "benzodiazepines", "paradoxical agitation",
                          "moderate")
    with pytest.raises(WarningsNotAcknowledged) as info:
        svc.add_adjunct(ctx["nurse"], session.id, "midazolam", 1, "mg", "IV")
    (warning,) = info.value.warnings
    assert "benzodiazepines" in warning.message and "N05CD08" in warning.message
    assert "WHO ATC" in warning.source
    # shared class: an oxycodone allergy on file, fentanyl given
    table = drug_class_table()
    (shared,) = allergy_warnings("fentanyl", [Allergy("oxycodone", "rash")], table)
    assert "both opioids" in shared.message


def test_ketamine_allergy_needs_a_reason_at_start(live):
    store, ctx, session, patient = live
    allergies.add_allergy(ctx["nurse"], patient.id, "NMDA antagonists", "hallucinations")
    with pytest.raises(WarningsNotAcknowledged) as info:
        svc.record_dose(ctx["nurse"], session.id, DoseKind.START, rate_mg_per_h=41,
                        acknowledge=True)
    assert any("Ketamine is one of the NMDA antagonists" in w.message for w in info.value.warnings)
    event = svc.record_dose(ctx["nurse"], session.id, DoseKind.START, rate_mg_per_h=41,
                            acknowledge=True, allergy_reason="reaction was to memantine dose")
    (ack,) = load_record(ctx["nurse"], session.id).acknowledgements
    assert ack.subject_uuid == event.uuid and ack.subject_table == "dose_events"
    # a rate change is no new administration: no second acknowledgement asked
    svc.record_dose(ctx["nurse"], session.id, DoseKind.RATE_CHANGE, rate_mg_per_h=45,
                    acknowledge=True)


def test_removed_allergy_no_longer_warns_and_stays_recorded(live):
    store, ctx, session, patient = live
    aid = allergies.add_allergy(ctx["nurse"], patient.id, "ondansetron", "headache")
    with pytest.raises(WarningsNotAcknowledged):
        svc.add_adjunct(ctx["nurse"], session.id, "ondansetron", 4, "mg", "IV")
    allergies.remove_allergy(ctx["nurse"], aid, "entered for the wrong patient")
    svc.add_adjunct(ctx["nurse"], session.id, "ondansetron", 4, "mg", "IV")
    assert store.get("allergies", aid)["removed_reason"] == "entered for the wrong patient"


def test_formulary_range_and_unit_warn_off_formulary_drug_gets_a_note(live):
    store, ctx, session, _ = live
    nurse = ctx["nurse"]
    assert svc.check_adjunct(ctx["nurse"], session.id, "ondansetron", 4, "mg", "IV").warnings == []
    with pytest.raises(WarningsNotAcknowledged) as info:
        svc.add_adjunct(nurse, session.id, "ondansetron", 16, "mg", "IV")
    assert "outside the usual dose 4-8 mg" in info.value.warnings[0].message
    with pytest.raises(WarningsNotAcknowledged) as info:
        svc.add_adjunct(nurse, session.id, "ondansetron", 4, "mcg", "IV")
    assert "usually given in mg" in info.value.warnings[0].message
    svc.add_adjunct(nurse, session.id, "ondansetron", 16, "mg", "IV",
                    acknowledgement="oncology dose per provider order")
    checked = svc.check_adjunct(ctx["nurse"], session.id, "glucose 10%", 50, "mL", "IV")
    assert checked.warnings == [] and "not in the clinic formulary" in checked.note
    svc.add_adjunct(nurse, session.id, "glucose 10%", 50, "mL", "IV")  # allowed
    assert store.count("adjunct_medications") == 2


def test_formulary_is_admin_edited_and_audited(live):
    store, ctx, session, _ = live
    entry = FormularyEntry("ondansetron", "antiemetics", "IV", "mg", 4, 16, "clinic policy 2026")
    with pytest.raises(PermissionDenied):
        formulary.save_entry(ctx["nurse"], entry)
    with pytest.raises(PlausibilityError, match="already in the formulary|source"):
        formulary.save_entry(ctx["admin"], FormularyEntry("x", "", "IV", "mg", 1, 2, ""))
    current = next(e for e in formulary.formulary(ctx["admin"])
                   if e.drug == "ondansetron" and e.route == "IV")
    formulary.save_entry(ctx["admin"], FormularyEntry(
        current.drug, current.drug_class, "IV", "mg", 4, 16, "clinic policy 2026",
        id=current.id), reason="oncology patients")
    assert svc.check_adjunct(ctx["nurse"], session.id, "ondansetron", 16, "mg", "IV").warnings == []
    assert store.audit_rows()[-1]["reason"] == "oncology patients"


def test_alarm_pending_until_acknowledged_with_action(live, clock):
    store, ctx, session, _ = live
    nurse = ctx["nurse"]
    svc.record_vitals(nurse, session.id, {"spo2_pct": 86, "hr_bpm": 80})
    svc.record_vitals(nurse, session.id, {"spo2_pct": 97, "hr_bpm": 80})
    (pending,) = alarms.pending_alarms(store, [session.id])
    assert pending.messages == ("SpO2 86 % < 92",)
    assert alarms.sessions_with_pending_alarms(nurse, [session.id]) == {session.id}
    with pytest.raises(PlausibilityError, match="what was done"):
        alarms.acknowledge_alarms(nurse, session.id, " ")
    assert alarms.acknowledge_alarms(nurse, session.id, "probe repositioned, 97 %") == 1
    assert alarms.pending_alarms(store, [session.id]) == []
    (ack,) = load_record(ctx["nurse"], session.id).acknowledgements
    assert (ack.kind, ack.response) == ("alarm", "probe repositioned, 97 %")
    assert "SpO2 86 % < 92" in ack.warning


def test_acknowledgements_are_signed_and_locked(live, clock, driver):
    store, ctx, session, _ = live
    nurse = ctx["nurse"]
    svc.record_dose(nurse, session.id, DoseKind.START, rate_mg_per_h=41, acknowledge=True)
    svc.record_vitals(nurse, session.id, {"sbp_mmhg": 190, "dbp_mmhg": 95})
    alarms.acknowledge_alarms(nurse, session.id, "rate halved")
    clock.advance(minutes=30)
    svc.record_dose(nurse, session.id, DoseKind.STOP, acknowledge=True)
    svc.complete_session(nurse, session.id, acknowledged=ACK_READINESS)
    svc.sign_session(ctx["provider"], session.id, "provider-pass-1")
    assert verify_store(store) == []
    with pytest.raises(driver.DatabaseError, match="locked"):
        store.conn.execute("UPDATE acknowledgements SET response = 'x'")
