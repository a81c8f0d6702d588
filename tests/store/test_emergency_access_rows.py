"""store/emergency_access.py: grants read back typed (times as datetimes, the unset ones
as None), those awaiting review oldest first, and writes through the audited Writer."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from ketalog.store import emergency_access as grant_rows
from ketalog.store import users as user_rows
from ketalog.store.store import SYSTEM

pytestmark = pytest.mark.both_engines


def _user(store, username):
    with store.write(SYSTEM) as w:
        return user_rows.insert_user(w, username=username, display_name=username,
                                     credentials="", password_hash="h", created_at=w.now)


def test_a_grant_round_trips_with_its_unset_columns_as_none(store, clock):
    nina = _user(store, "nina")
    start = clock.now()
    with store.write(SYSTEM) as w:
        gid = grant_rows.insert_grant(w, nina, start, start + timedelta(minutes=60),
                                      "provider locked out mid-infusion", True)
    found = grant_rows.grant(store, gid)
    assert found is not None and found.uuid
    assert found == grant_rows.Grant(
        id=gid, uuid=found.uuid, user_id=nina, started_at=start,
        expires_at=start + timedelta(minutes=60), ended_at=None,
        reason="provider locked out mid-infusion", account_was_locked=True, reviewed_at=None,
        reviewed_by=None, review_note="")
    assert grant_rows.grant(store, 10_000) is None


def test_grants_awaiting_review_come_oldest_first(store, clock):
    nina, ada = _user(store, "nina"), _user(store, "ada")
    now = clock.now()
    with store.write(SYSTEM) as w:
        late = grant_rows.insert_grant(w, nina, now, now + timedelta(hours=1), "second one", False)
        early = grant_rows.insert_grant(w, nina, now - timedelta(hours=2),
                                        now - timedelta(hours=1), "first one", False)
        reviewed = grant_rows.insert_grant(w, nina, now - timedelta(hours=3),
                                           now - timedelta(hours=2), "done", False)
        grant_rows.review_grant(w, reviewed, now, ada, "checked the chart")
    assert [g.id for g in grant_rows.awaiting_review(store)] == [early, late]
    done = grant_rows.grant(store, reviewed)
    assert done is not None and (done.reviewed_at, done.reviewed_by, done.review_note) == (
        now, ada, "checked the chart")


def test_writes_are_audited_with_their_reasons(store, clock):
    nina, ada = _user(store, "nina"), _user(store, "ada")
    now = clock.now()
    before = store.count("audit_log")
    with store.write(SYSTEM) as w:
        gid = grant_rows.insert_grant(w, nina, now, now + timedelta(hours=1),
                                      "no provider on site", False)
        grant_rows.end_grant(w, gid, now + timedelta(minutes=20), "logged out")
        grant_rows.review_grant(w, gid, now + timedelta(hours=2), ada, "all entries checked")
    entries = store.audit_rows()[before:]
    uuid = grant_rows.grant(store, gid).uuid
    assert [(e["action"], e["table_name"], e["row_uuid"], e["reason"]) for e in entries] == [
        ("insert", "emergency_access", uuid, "no provider on site"),
        ("update", "emergency_access", uuid, "logged out"),
        ("update", "emergency_access", uuid, "all entries checked")]
    assert json.loads(str(entries[1]["new_values"])) == {
        "ended_at": "2026-11-24T14:20:00.000Z"}
    assert json.loads(str(entries[2]["new_values"])) == {
        "reviewed_at": "2026-11-24T16:00:00.000Z", "reviewed_by": ada,
        "review_note": "all entries checked"}
    ended = grant_rows.grant(store, gid)
    assert ended is not None and ended.ended_at == now + timedelta(minutes=20)
