"""Protocol management: admins only; a protocol in use never changes under its sessions."""

from __future__ import annotations

from datetime import date

import pytest

from ketalog.domain.entities import Bag
from ketalog.domain.errors import PlausibilityError
from ketalog.services.errors import InvalidState, PermissionDenied
from ketalog.services.patients import PatientInput, create_patient
from ketalog.services.protocols import (
    ProtocolInput,
    create_protocol,
    get_protocol,
    list_protocols,
    new_version,
    retire_protocol,
    update_protocol,
)
from ketalog.services.record import load_record
from ketalog.services.sessions import SessionStart, start_session

pytestmark = pytest.mark.both_engines

HOUSE = ProtocolInput("House 0.5 mg/kg/h x 2 h", "neuropathic pain", 0.0, 0.5, 120, 6, None, 15)


def test_only_admins_manage_protocols(staffed):
    _, ctx = staffed
    with pytest.raises(PermissionDenied):
        create_protocol(ctx["nurse"], HOUSE)
    with pytest.raises(PermissionDenied):
        create_protocol(ctx["provider"], HOUSE)
    p = create_protocol(ctx["admin"], HOUSE)
    with pytest.raises(PermissionDenied):
        retire_protocol(ctx["nurse"], p.id, "no")


def test_unused_protocol_edits_in_place_used_one_gets_a_new_version(staffed):
    store, ctx = staffed
    admin, nurse = ctx["admin"], ctx["nurse"]
    p = create_protocol(admin, HOUSE)
    p = update_protocol(admin, p.id, ProtocolInput(HOUSE.name, "neuropathic pain", 0.0, 0.6,
                                                  120, 6, None, 15), "typo in rate")
    assert p.rate_mg_per_kg_per_h == 0.6
    patient = create_patient(nurse, PatientInput("P9", "Ek", "Bo", date(1970, 2, 3)))
    session = start_session(nurse, SessionStart(patient.id, 70, Bag("ketamine", 1, 500),
                                                protocol_id=p.id, series_total=6))
    with pytest.raises(InvalidState, match="used by 1 session"):
        update_protocol(admin, p.id, HOUSE, "change")
    with pytest.raises(PlausibilityError, match="own name"):
        new_version(admin, p.id, HOUSE, "lower rate per pharmacy")
    with pytest.raises(PlausibilityError, match="reason"):
        new_version(admin, p.id, HOUSE, " ")
    v2 = new_version(admin, p.id, ProtocolInput(HOUSE.name + " v2", "neuropathic pain", 0.0,
                                                0.5, 120, 6, None, 15), "lower rate per pharmacy")
    old = get_protocol(admin, p.id)
    assert old.retired and old.rate_mg_per_kg_per_h == 0.6  # unchanged for its session
    assert load_record(ctx["nurse"], session.id).protocol == old
    assert [x.name for x in list_protocols(nurse) if x.name.startswith("House")] == [v2.name]
    with pytest.raises(InvalidState, match="already retired"):
        retire_protocol(admin, p.id, "again")
    with pytest.raises(InvalidState, match="retired"):
        start_session(nurse, SessionStart(patient.id, 70, Bag("ketamine", 1, 500),
                                          protocol_id=p.id, series_total=6))
    audit = store.audit_rows()[-1]
    assert audit["action"] == "update" and "replaced by" in str(audit["reason"])
