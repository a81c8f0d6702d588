"""store/users.py: typed reads of accounts and their roles, in the orders lists use, and
writes through the audited Writer (the same audit entries as before)."""

from __future__ import annotations

import json

import pytest

from ketalog.domain.entities import Role, User
from ketalog.store import users as user_rows
from ketalog.store.errors import NotFound
from ketalog.store.store import SYSTEM

pytestmark = pytest.mark.both_engines


def _add(store, username, display_name, roles, **extra):
    with store.write(SYSTEM) as w:
        uid = user_rows.insert_user(w, username=username, display_name=display_name,
                                    credentials=extra.get("credentials", ""),
                                    password_hash=f"hash-of-{username}", created_at=w.now)
        user_rows.set_roles(w, uid, user_rows.uuid_of(store, uid), roles)
    return uid


def test_a_user_round_trips_typed_with_roles(store):
    assert not user_rows.any_user(store)
    uid = _add(store, "Ann", "Dr Ann Lee", ["provider", "admin", "provider"], credentials="MD")
    assert user_rows.any_user(store)
    found = user_rows.user(store, uid)
    assert found == User(id=uid, username="Ann", display_name="Dr Ann Lee", credentials="MD",
                         roles=frozenset({Role.PROVIDER, Role.ADMIN}), failed_logins=0,
                         locked=False, active=True)
    assert user_rows.roles_of(store, uid) == [Role.ADMIN, Role.PROVIDER]
    assert user_rows.user_named(store, "ann") == found  # the username's NOCASE collation
    stored = user_rows.login_state(store, uid)
    assert stored is not None and stored.password_hash == "hash-of-Ann"
    assert stored.uuid == user_rows.uuid_of(store, uid) != ""
    assert (stored.user_id, stored.failed_logins, stored.locked) == (uid, 0, False)


def test_unknown_ids_and_names_read_as_nothing(store):
    assert user_rows.user(store, 10_000) is None
    assert user_rows.user_named(store, "nobody") is None
    assert user_rows.login_state(store, 10_000) is None
    assert user_rows.uuid_of(store, 10_000) == ""
    assert user_rows.roles_of(store, 10_000) == []
    assert user_rows.users_by_username(store) == []


def test_lists_come_in_their_orders(store):
    zed = _add(store, "zed", "Aaron Zed", ["nurse"])
    bob = _add(store, "Bob", "Carol Bob", ["provider"])
    amy = _add(store, "amy", "Bea Amy", ["provider"])
    assert [u.username for u in user_rows.users_by_username(store)] == ["amy", "Bob", "zed"]
    with store.write(SYSTEM) as w:
        user_rows.set_active(w, bob, False, reason="left the clinic")
        user_rows.count_failure(w, zed, 5, True, reason="failed login")
    assert [u.id for u in user_rows.active_users_by_display_name(store)] == [zed, amy]
    assert [u.id for u in user_rows.usable_users(store)] == [amy]
    assert all(isinstance(u, User) for u in user_rows.users_by_username(store))


def test_role_changes_are_one_audit_entry_and_none_when_unchanged(store):
    uid = _add(store, "nina", "Nina Nurse", ["nurse"])
    uuid = user_rows.uuid_of(store, uid)
    inserted = store.audit_rows(table_name="users", action="insert")
    assert [e["row_uuid"] for e in inserted] == [uuid]
    assert "hash-of-nina" not in str(inserted[0]["new_values"])  # the hash is redacted
    before = store.count("audit_log")
    with store.write(SYSTEM) as w:
        user_rows.set_roles(w, uid, uuid, ["nurse"])
    assert store.count("audit_log") == before
    with store.write(SYSTEM) as w:
        user_rows.set_roles(w, uid, uuid, ["provider", "nurse"])
    [entry] = store.audit_rows()[before:]
    assert (entry["action"], entry["table_name"], entry["row_uuid"]) == (
        "update", "user_roles", uuid)
    assert json.loads(str(entry["old_values"])) == {"roles": ["nurse"]}
    assert json.loads(str(entry["new_values"])) == {"roles": ["nurse", "provider"]}
    assert user_rows.roles_of(store, uid) == [Role.NURSE, Role.PROVIDER]


def test_account_changes_are_audited_updates(store):
    uid = _add(store, "paul", "Dr Paul", ["provider"])
    before = store.count("audit_log")
    with store.write(SYSTEM) as w:
        user_rows.count_failure(w, uid, 1, False, reason="failed login")
        user_rows.reset_failed_logins(w, uid)
        user_rows.count_failure(w, uid, 5, True, reason="failed signature")
        user_rows.unlock(w, uid, reason="called him")
        user_rows.set_password_hash(w, uid, "new-hash", reason="password set")
        user_rows.count_failure(w, uid, 5, True, reason="failed login")
        user_rows.unlock_with_password(w, uid, "newer-hash", reason="recovered")
        user_rows.set_active(w, uid, False, reason="left")
    entries = store.audit_rows()[before:]
    assert [(e["action"], e["table_name"], e["reason"]) for e in entries] == [
        ("update", "users", "failed login"), ("update", "users", ""),
        ("update", "users", "failed signature"), ("update", "users", "called him"),
        ("update", "users", "password set"), ("update", "users", "failed login"),
        ("update", "users", "recovered"), ("update", "users", "left")]
    assert json.loads(str(entries[2]["new_values"])) == {"failed_logins": 5, "locked": 1}
    assert json.loads(str(entries[3]["new_values"])) == {"failed_logins": 0, "locked": 0}
    stored = user_rows.login_state(store, uid)
    assert stored is not None and stored.password_hash == "newer-hash"
    found = user_rows.user(store, uid)
    assert found is not None and not found.active and not found.locked


def test_a_change_to_nothing_writes_no_entry(store):
    uid = _add(store, "amy", "Amy", ["nurse"])
    before = store.count("audit_log")
    with store.write(SYSTEM) as w:
        user_rows.reset_failed_logins(w, uid)
        user_rows.set_active(w, uid, True, reason="already active")
    assert store.count("audit_log") == before


def test_writes_to_an_unknown_user_are_refused(store):
    with pytest.raises(NotFound), store.write(SYSTEM) as w:
        user_rows.unlock(w, 10_000, reason="no such account")

