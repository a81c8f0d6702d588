"""The admin's audit log query: filters by user, patient (MRN), clinic-local days and
action; keyset paging; the CSV export and its own audit entry."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from ketalog.domain.entities import Bag
from ketalog.services import sessions as svc
from ketalog.services.audit_log import (
    AuditFilter,
    audit_actions,
    audit_csv,
    export_audit_csv,
    search_audit,
)
from ketalog.services.errors import ServiceError
from ketalog.services.patients import PatientInput, create_patient

pytestmark = pytest.mark.both_engines


@pytest.fixture
def history(staffed, clock):
    """Day 1: the nurse registers K1 and records; day 3: K2, and the provider records."""
    store, ctx = staffed
    nurse, provider = ctx["nurse"], ctx["provider"]
    k1 = create_patient(nurse, PatientInput("K1", "Lind", "Eva", date(1970, 1, 1)))
    s1 = svc.start_session(nurse, svc.SessionStart(k1.id, 70, Bag("ketamine", 1, 500)))
    svc.record_vitals(nurse, s1.id, {"hr_bpm": 70})
    svc.add_note(nurse, s1.id, "settled")
    day1 = clock.now().astimezone().date()
    clock.advance(days=2)
    k2 = create_patient(nurse, PatientInput("K2", "Berg", "Ola", date(1980, 2, 2)))
    s2 = svc.start_session(nurse, svc.SessionStart(k2.id, 80, Bag("ketamine", 1, 500)))
    svc.record_vitals(provider, s2.id, {"hr_bpm": 90})
    svc.record_vitals(provider, s1.id, {"hr_bpm": 75})
    return store, ctx, day1, s1, s2


def _all(ctx, f: AuditFilter):
    page = search_audit(ctx["admin"], f, page_size=1000)
    assert not page.more and page.total == len(page.lines)
    return page.lines


def test_filter_by_user_patient_day_and_action(history):
    store, ctx, day1, s1, _ = history
    everything = _all(ctx, AuditFilter())
    assert [e.id for e in everything] == sorted((e.id for e in everything), reverse=True)
    assert len(everything) == store.count("audit_log")

    by_provider = _all(ctx, AuditFilter(username="provider"))
    assert {e.username for e in by_provider} == {"provider"}
    assert [e.table for e in by_provider if e.action == "insert"] == ["vitals", "vitals"]

    k1 = _all(ctx, AuditFilter(mrn="K1"))
    assert {e.mrn for e in k1} == {"K1"}
    assert {e.table for e in k1} >= {"patients", "sessions", "vitals", "notes"}
    assert [e.username for e in k1 if e.table == "vitals"] == ["provider", "nurse"]

    both = _all(ctx, AuditFilter(username="provider", mrn="K1"))
    assert [(e.table, e.mrn) for e in both] == [("vitals", "K1")]

    first_day = _all(ctx, AuditFilter(since=day1, until=day1))
    assert first_day and all(e.at.astimezone().date() == day1 for e in first_day)
    assert "K2" not in {e.mrn for e in first_day}
    later = _all(ctx, AuditFilter(since=day1 + timedelta(days=1)))
    # the upgrade steps' own entries carry the wall clock's time, not the test clock's
    assert {e.mrn for e in later if e.username != "system"} == {"K1", "K2"}
    assert len(first_day) + len(later) == len(everything) - len(
        _all(ctx, AuditFilter(until=day1 - timedelta(days=1))))

    notes = _all(ctx, AuditFilter(action="insert", mrn="K1"))
    assert {e.action for e in notes} == {"insert"}
    assert "login" in audit_actions(ctx["admin"])


def test_pages_follow_each_other_without_gaps(history):
    _, ctx, *_ = history
    admin = ctx["admin"]
    seen, before, pages = [], None, 0
    while True:
        page = search_audit(admin, AuditFilter(), before_id=before, page_size=4)
        seen += [e.id for e in page.lines]
        pages += 1
        if not page.more:
            break
        before = page.lines[-1].id
    assert seen == [e.id for e in _all(ctx, AuditFilter())] and pages > 2


def test_bad_filters_are_refused_clearly(history):
    _, ctx, day1, *_ = history
    with pytest.raises(ServiceError, match="no patient with MRN K404"):
        search_audit(ctx["admin"], AuditFilter(mrn="K404"))
    with pytest.raises(ServiceError, match="no user named ghost"):
        search_audit(ctx["admin"], AuditFilter(username="ghost"))
    with pytest.raises(ServiceError, match="ends .* before it starts"):
        search_audit(ctx["admin"], AuditFilter(since=day1, until=day1 - timedelta(days=1)))


def test_csv_export_writes_the_filtered_rows_and_audits_itself(history, tmp_path):
    store, ctx, *_ = history
    f = AuditFilter(mrn="K1")
    expected = _all(ctx, f)
    out = tmp_path / "k1-audit.csv"
    assert export_audit_csv(ctx["admin"], f, out) == len(expected)
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [int(r["id"]) for r in rows] == [e.id for e in expected]
    assert {r["patient_mrn"] for r in rows} == {"K1"}
    assert rows[0]["at_utc"].endswith("Z") and rows[0]["at_local"][-6] in "+-"  # never naive
    entry = store.audit_rows()[-1]
    assert (entry["action"], entry["username"], entry["table_name"]) == (
        "export_audit", "admin", "audit_log")
    assert f'"rows": {len(expected)}' in entry["new_values"]
    assert '"mrn": "K1"' in entry["new_values"] and str(out) in entry["new_values"]
    data, count = audit_csv(ctx["admin"], AuditFilter(action="export_audit"))
    assert count == 1 and b"export_audit" in data
