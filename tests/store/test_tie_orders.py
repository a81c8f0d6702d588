"""Lists whose sort key can tie (two patients of the same name, two accounts with the same
display name, two emergency grants started in the same millisecond) come out in the
order the rows were added, on either engine: the store's ORDER BY ends with the id.
Each test changes the first row after adding the second, which moves it to the end of
a PostgreSQL table's heap: without the id a tie would follow that, not the insertion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ketalog.store import emergency_access, patients, users
from ketalog.store.store import SYSTEM

pytestmark = pytest.mark.both_engines
NOW = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


def _user(store, username: str, display_name: str) -> int:
    with store.write(SYSTEM) as w:
        uid = users.insert_user(w, username=username, display_name=display_name,
                                credentials="", password_hash="-", created_at=w.now)
        users.set_roles(w, uid, users.uuid_of(store, uid), ["provider"])
    return uid


def test_accounts_with_the_same_display_name_keep_their_order(store):
    first, second = _user(store, "lee1", "Dr Lee"), _user(store, "lee2", "Dr Lee")
    _user(store, "abe", "Dr Abe")
    with store.write(SYSTEM) as w:
        users.count_failure(w, first, 1, False, "wrong password")
    listed = [u.id for u in users.active_users_by_display_name(store)]
    assert listed[1:] == [first, second]


def test_patients_with_the_same_name_keep_their_order(store):
    ids = []
    for mrn in ("T-2", "T-1", "T-3"):
        with store.write(SYSTEM) as w:
            ids.append(patients.insert_patient(w, {
                "mrn": mrn, "family_name": "Tan", "given_name": "Mei",
                "birth_date": "1980-01-01", "sex": "female", "created_at": w.now}))
    with store.write(SYSTEM) as w:
        w.update("patients", ids[0], {"sex": "unknown"})
    assert [p.id for p in patients.search(store, "tan", 10)] == ids
    assert [p.id for p in patients.search(store, "", 10)] == ids


def test_grants_started_at_the_same_moment_keep_their_order(store):
    uid = _user(store, "nina", "Nina")
    with store.write(SYSTEM) as w:
        grants = [emergency_access.insert_grant(w, uid, NOW, NOW + timedelta(hours=1),
                                                f"reason {n}", False) for n in range(3)]
    with store.write(SYSTEM) as w:
        emergency_access.end_grant(w, grants[0], NOW + timedelta(minutes=5), "done")
    assert [g.id for g in emergency_access.awaiting_review(store)] == grants
