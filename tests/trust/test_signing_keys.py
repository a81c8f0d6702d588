"""Signing keys over an account's life: made with the account, replaced at every
password reset (old signatures still verify), made at the first login of an account
from before keys existed; a sealed key opens with its own password only."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketalog.domain.signing import (
    KeyUnsealError,
    new_sealed_key,
    signature_message,
    signature_valid,
    unseal,
)
from ketalog.services import auth, sessions
from ketalog.store.connection import open_store
from ketalog.store.verify import verify_store
from tests.store.helpers import PROVIDER_PW, build_signed_session, start_patient_session

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "schema_m001.sqlite"


def test_a_sealed_key_opens_with_its_password_only():
    sealed = new_sealed_key("user-uuid", "right-password")
    key = unseal(7, "user-uuid", sealed.public_key_hex, sealed.sealed_json, "right-password")
    message = signature_message(session_uuid="s", user_id=1, at="t", meaning="m",
                                content_hash="h", key_id=7)
    assert signature_valid(sealed.public_key_hex, key.sign(message), message)
    assert not signature_valid(sealed.public_key_hex, key.sign(message), message + b" ")
    for user, password in (("user-uuid", "wrong-password"), ("another-user", "right-password")):
        with pytest.raises(KeyUnsealError):
            unseal(7, user, sealed.public_key_hex, sealed.sealed_json, password)
    assert "right-password" not in sealed.sealed_json


@settings(max_examples=25, deadline=None)
@given(st.text(min_size=1, max_size=40), st.text(max_size=40), st.integers(0, 2**31),
       st.text(max_size=80))
def test_any_change_to_what_was_signed_breaks_the_signature(session_uuid, at, user_id,
                                                            digest):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    fields = {"session_uuid": session_uuid, "user_id": user_id, "at": at, "meaning": "m",
              "content_hash": digest, "key_id": 1}
    signature = private.sign(signature_message(**fields)).hex()
    assert signature_valid(public, signature, signature_message(**fields))
    for name in ("session_uuid", "at", "content_hash"):
        changed = {**fields, name: fields[name] + "x"}
        assert not signature_valid(public, signature, signature_message(**changed))
    assert not signature_valid(public, signature,
                               signature_message(**{**fields, "user_id": user_id + 1}))


def test_a_password_reset_makes_a_new_pair_and_old_signatures_keep_verifying(store, clock):
    signed = build_signed_session(store, clock)
    provider_id = signed.staff.provider.user.id
    assert store.count("user_keys", user_id=provider_id) == 1
    auth.set_password(signed.staff.admin, "paul", "a-new-password-2")
    keys = store.rows("user_keys", order_by="id", user_id=provider_id)
    assert [k["reason"] for k in keys] == ["account created", "password reset by admin"]
    assert keys[0]["public_key"] != keys[1]["public_key"]
    provider = auth.login(store, clock, "paul", "a-new-password-2")
    assert provider.signing_key is not None and provider.signing_key.key_id == keys[1]["id"]
    _, second = start_patient_session(signed.staff, mrn="MRN-002")
    sessions.complete_session(signed.staff.nurse, second)
    sessions.sign_session(provider, second, "a-new-password-2")
    used = {r["session_id"]: r["key_id"] for r in store.rows("signatures", meaning=
                                                               sessions.PROVIDER_SIGNATURE)}
    assert used == {signed.session_id: keys[0]["id"], second: keys[1]["id"]}
    assert verify_store(store) == []
    with pytest.raises(auth.LoginFailed):
        auth.reauthenticate(provider, PROVIDER_PW, "signature")  # the old password is gone


def test_an_account_from_before_keys_gets_one_at_its_next_login(tmp_path, clock):
    path = tmp_path / "old.sqlite"
    shutil.copy(FIXTURE, path)
    store = open_store(path, clock)
    try:
        assert store.count("user_keys") == 0
        ctx = auth.login(store, clock, "nina", "fixture-password-1")
        [key] = store.rows("user_keys")
        assert key["reason"] == "first login since signing keys were introduced"
        assert ctx.signing_key is not None and ctx.signing_key.key_id == key["id"]
        auth.login(store, clock, "nina", "fixture-password-1")
        assert store.count("user_keys") == 1  # opened, not made again
        assert verify_store(store) == []
    finally:
        store.close()
