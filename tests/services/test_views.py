"""Opening a record is audited as a "view" entry (who looked at which patient's what);
the audit viewer's action filter lists it."""

from __future__ import annotations

import json

import pytest

from ketalog.services.audit_log import AuditFilter, audit_actions, search_audit
from ketalog.services.views import view_patient, view_session
from tests.store.helpers import build_signed_session

pytestmark = pytest.mark.both_engines


def test_opening_a_session_or_a_patient_writes_a_view_entry(store, clock):
    signed = build_signed_session(store, clock)
    nurse = signed.staff.nurse
    view_session(nurse, signed.session_id)
    view_patient(nurse, signed.patient_id, "course view")
    entries = store.audit_rows(action="view")
    assert [(e["username"], e["table_name"]) for e in entries] == [("nina", "sessions"),
                                                                   ("nina", "patients")]
    details = [json.loads(e["new_values"]) for e in entries]
    assert [d["what"] for d in details] == ["session", "course view"]
    assert {d["patient_mrn"] for d in details} == {"MRN-001"}
    admin = signed.staff.admin
    assert "view" in audit_actions(admin)
    page = search_audit(admin, AuditFilter(action="view"))
    assert [line.action for line in page.lines] == ["view", "view"] and page.total == 2
