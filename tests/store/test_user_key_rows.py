"""store/user_keys.py: key pairs are added through the audited Writer and read back
typed, the newest being the user's current one."""

from __future__ import annotations

import json

import pytest

from ketalog.store import user_keys as key_rows
from ketalog.store import users as user_rows
from ketalog.store.store import SYSTEM

pytestmark = pytest.mark.both_engines


def _user(store, username="nina"):
    with store.write(SYSTEM) as w:
        return user_rows.insert_user(w, username=username, display_name=username,
                                     credentials="", password_hash="h", created_at=w.now)


def test_the_newest_key_is_the_current_one(store, clock):
    nina, paul = _user(store), _user(store, "paul")
    assert key_rows.current_key(store, nina) is None
    with store.write(SYSTEM) as w:
        first = key_rows.insert_key(w, nina, "pub-1", "sealed-1", "account created")
    clock.advance(minutes=5)
    with store.write(SYSTEM) as w:
        second = key_rows.insert_key(w, nina, "pub-2", "sealed-2", "password changed")
        key_rows.insert_key(w, paul, "pub-p", "sealed-p", "account created")
    current = key_rows.current_key(store, nina)
    assert current == key_rows.UserKey(id=second, user_id=nina, public_key="pub-2",
                                       sealed_key="sealed-2", reason="password changed",
                                       created_at=clock.now())
    assert first < second
    other = key_rows.current_key(store, paul)
    assert other is not None and other.public_key == "pub-p"


def test_a_key_enters_the_audit_chain_with_its_row(store):
    nina = _user(store)
    before = store.count("audit_log")
    with store.write(SYSTEM) as w:
        key_id = key_rows.insert_key(w, nina, "pub-1", "sealed-1", "account created")
    [entry] = store.audit_rows()[before:]
    assert (entry["action"], entry["table_name"]) == ("insert", "user_keys")
    values = json.loads(str(entry["new_values"]))
    assert values["id"] == key_id and values["public_key"] == "pub-1"
    assert values["user_id"] == nina and values["reason"] == "account created"
