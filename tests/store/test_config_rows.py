"""The configuration and monitor-feed store modules: clinic settings, coded indications,
the formulary, the device message ledger and the stock picture's sessions. Written
through the audited Writer, read back typed, in their list order, NULLs as None."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from ketalog.domain.clock import to_iso
from ketalog.domain.entities import Bag
from ketalog.domain.formulary import FormularyEntry
from ketalog.domain.indications import Category, Indication
from ketalog.services.patients import PatientInput, create_patient
from ketalog.services.sessions import SessionStart, start_session
from ketalog.store import device_messages as ledger
from ketalog.store import formulary as formulary_rows
from ketalog.store import indications as indication_rows
from ketalog.store import settings as stored
from ketalog.store import stock
from ketalog.store.store import SYSTEM

pytestmark = pytest.mark.both_engines


def _last_audit(store):
    return store.audit_rows()[-1]


# -- clinic settings ---------------------------------------------------------------------------
def test_settings_read_typed_and_every_write_is_audited(store):
    assert stored.value(store, "backup_every_hours") is None
    assert not stored.is_set(store, "backup_every_hours")
    assert stored.number(store, "backup_every_hours") is None
    assert stored.text(store, "backup_folder") == ""
    assert stored.mapping(store, "hl7_feed") == {}
    with store.write(SYSTEM) as w:
        stored.write(w, "backup_every_hours", 6, "first")
        stored.write(w, "backup_folder", "/mnt/backups")
        stored.write(w, "hl7_feed", {"enabled": True, "port": 2575})
    first = _last_audit(store)
    assert (first["action"], first["table_name"], first["row_uuid"]) == (
        "insert", "clinic_settings", "hl7_feed")
    assert stored.number(store, "backup_every_hours") == 6.0
    assert isinstance(stored.number(store, "backup_every_hours"), float)
    assert stored.text(store, "backup_folder") == "/mnt/backups"
    assert stored.mapping(store, "hl7_feed") == {"enabled": True, "port": 2575}
    with store.write(SYSTEM) as w:
        stored.write(w, "backup_every_hours", "often", "damaged by hand")
        stored.write(w, "hl7_feed", [1, 2])
    changed = [r for r in store.audit_rows() if r["row_uuid"] == "backup_every_hours"]
    assert [r["action"] for r in changed] == ["insert", "update"]
    assert json.loads(changed[-1]["old_values"]) == {"backup_every_hours": 6}
    assert changed[-1]["reason"] == "damaged by hand"
    assert stored.is_set(store, "backup_every_hours")
    assert stored.number(store, "backup_every_hours") is None  # text is no number
    assert stored.mapping(store, "hl7_feed") == {}  # a list is no object


# -- coded indications -------------------------------------------------------------------------
def test_indications_typed_by_category_then_name_and_audited(store, clock):
    seeded = indication_rows.indications(store)
    assert seeded and all(isinstance(i, Indication) for i in seeded)
    assert seeded == sorted(seeded, key=lambda i: (i.category.value, i.name.lower()))
    with store.write(SYSTEM) as w:
        iid = indication_rows.insert_indication(w, "aaa pain", Category.PAIN, None,
                                                to_iso(clock.now()))
    entry = _last_audit(store)
    assert (entry["action"], entry["table_name"]) == ("insert", "indications")
    assert json.loads(entry["new_values"])["name"] == "aaa pain"
    added = indication_rows.indication(store, iid)
    assert added == Indication(iid, "aaa pain", Category.PAIN, None, False)
    pain = [i for i in indication_rows.indications(store) if i.category is Category.PAIN]
    assert pain[0] == added and pain[-1] == indication_rows.indications(store)[-1]
    assert indication_rows.indication_named(store, "AAA Pain") == added  # NOCASE
    assert indication_rows.indication_named(store, "nothing like it") is None
    assert indication_rows.indication(store, 10_000) is None
    with store.write(SYSTEM) as w:
        indication_rows.set_default_protocol(w, iid, None)  # unchanged: nothing written
    assert _last_audit(store)["id"] == entry["id"]
    with store.write(SYSTEM) as w:
        w.update("indications", iid, {"retired": 1})
    assert added.name not in [i.name for i in indication_rows.indications(store)]
    retired = indication_rows.indication(store, iid)
    assert retired is not None and retired.retired
    assert retired in indication_rows.indications(store, include_retired=True)


# -- formulary ---------------------------------------------------------------------------------
def test_formulary_typed_by_drug_then_route_nulls_as_none_and_audited(store):
    assert formulary_rows.entries(store) == []
    with store.write(SYSTEM) as w:
        b = formulary_rows.insert_entry(w, FormularyEntry(
            "ondansetron", "antiemetics", "PO", "mg", None, 8, "label"), reason="added")
        a = formulary_rows.insert_entry(w, FormularyEntry(
            "Ondansetron", "antiemetics", "IV", "mg", 4, None, "label"))
        c = formulary_rows.insert_entry(w, FormularyEntry(
            "clonidine", "", "PO", "mcg", 75, 150, "label", retired=True))
    entry = [r for r in store.audit_rows() if r["table_name"] == "formulary"][0]
    assert (entry["action"], entry["reason"]) == ("insert", "added")
    assert [e.id for e in formulary_rows.entries(store)] == [a, b]  # retired left out
    assert [e.id for e in formulary_rows.entries(store, include_retired=True)] == [c, a, b]
    po = formulary_rows.entry(store, b)
    assert po is not None and po.dose_min is None and po.dose_max == 8.0 and po.uuid
    assert isinstance(po.dose_max, float) and po.retired is False
    assert formulary_rows.entry(store, 10_000) is None
    with store.write(SYSTEM) as w:
        formulary_rows.update_entry(w, b, FormularyEntry(
            "ondansetron", "antiemetics", "PO", "mg", 4, 8, "label"), reason="usual low dose")
    change = _last_audit(store)
    assert (change["action"], change["table_name"], change["reason"]) == (
        "update", "formulary", "usual low dose")
    assert json.loads(change["old_values"]) == {"dose_min": None}
    assert json.loads(change["new_values"]) == {"dose_min": 4}
    updated = formulary_rows.entry(store, b)
    assert updated is not None and updated.dose_min == 4.0


# -- device message ledger ---------------------------------------------------------------------
@pytest.fixture
def open_session(staffed, clock):
    store, ctx = staffed
    patient = create_patient(ctx["nurse"], PatientInput("L1", "Ledger", "Lee", date(1970, 1, 1)))
    session = start_session(ctx["nurse"], SessionStart(patient.id, 70.0,
                                                       Bag("ketamine", 1.0, 500), chair="Chair 2"))
    return store, patient.id, session.id


def _message(received_at: str, digest: str, status: str, **more: object) -> dict[str, object]:
    return {"received_at": received_at, "sending_app": "MON", "control_id": digest,
            "raw_sha256": digest, "status": status, "ack_code": "AA", **more}


def test_ledger_rows_typed_newest_first_and_audited(open_session, clock):
    store, patient_id, session_id = open_session
    [found] = ledger.open_sessions(store)
    assert (found.id, found.status, found.chair, found.patient_id, found.mrn) == (
        session_id, "draft", "Chair 2", patient_id, "L1")
    assert found.began_at
    now = clock.now()
    early, late = to_iso(now - timedelta(minutes=5)), to_iso(now)
    with store.write(SYSTEM) as w:
        stored_id = ledger.insert_message(w, _message(early, "h1", "stored",
                                                      session_id=session_id, readings=2,
                                                      source="MON", clock_ahead_s=3.0))
        refused_id = ledger.insert_message(w, _message(
            early, "h2", "quarantined", reason="refused alone", raw="MSH|...",
            part_of=stored_id))
        quarantined_id = ledger.insert_message(w, _message(late, "h3", "quarantined",
                                                           reason="no session"))
    entry = _last_audit(store)
    assert (entry["action"], entry["table_name"]) == ("insert", "device_messages")
    first = ledger.message(store, stored_id)
    assert first is not None and (first.session_id, first.readings, first.clock_ahead_s) == (
        session_id, 2, 3.0)
    assert (first.raw, first.resolved_at, first.resolved_by, first.part_of) == (
        "", None, None, None)  # NULL raw reads as ''
    assert ledger.message_by_hash(store, "h2") == ledger.message(store, refused_id)
    assert ledger.message_by_hash(store, "nope") is None
    assert ledger.message(store, 10_000) is None
    assert [m.id for m in ledger.messages(store)] == [quarantined_id, refused_id, stored_id]
    assert [m.id for m in ledger.messages(store, "quarantined", limit=1)] == [quarantined_id]
    assert (ledger.message_count(store), ledger.quarantined_count(store)) == (3, 2)
    by_source = ledger.messages_by_source(store, early)
    assert [(m.status, m.clock_ahead_s) for m in by_source] == [
        ("stored", 3.0), ("quarantined", None)]  # the refusal row is part of message 1
    assert by_source[0].unknown_codes == "[]" and by_source[1].source == ""
    assert ledger.messages_by_source(store, to_iso(now + timedelta(seconds=1))) == []
    with store.write(SYSTEM) as w:
        ledger.update_message(w, quarantined_id, {"status": "discarded",
                                                  "resolution_note": "test"}, reason="test")
    change = _last_audit(store)
    assert (change["action"], change["table_name"], change["reason"]) == (
        "update", "device_messages", "test")
    assert json.loads(change["old_values"]) == {"status": "quarantined", "resolution_note": ""}
    assert ledger.quarantined_count(store) == 1


# -- the stock picture's sessions --------------------------------------------------------------
def test_stock_sessions_typed(open_session, clock):
    store, _, session_id = open_session
    assert stock.stock_sessions(store, None) == []  # no movement yet
    [s] = stock.stock_sessions(store, clock.now() - timedelta(days=1))
    assert (s.id, s.status, s.weight_kg, s.nurse_id is not None, s.mrn, s.family_name,
            s.given_name, s.birth_date) == (session_id, "draft", 70.0, True, "L1", "Ledger",
                                            "Lee", "1970-01-01")
    assert isinstance(s.weight_kg, float) and s.began
