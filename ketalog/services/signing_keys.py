"""Each user's signing key pair, made when the account is created, at every password
change or reset (the old pair stays, so old signatures keep verifying), and at the first
login of an account that has none yet. The private key is only ever unsealed with the
user's password, in memory, for one login."""

from __future__ import annotations

from ketalog.domain.hashing import content_hash
from ketalog.domain.signing import (
    KeyUnsealError,
    SigningKey,
    new_sealed_key,
    signature_message,
    unseal,
)
from ketalog.services.errors import service_boundary
from ketalog.store import user_keys as key_rows
from ketalog.store import users as user_rows
from ketalog.store.content import session_content
from ketalog.store.store import Store, Writer


@service_boundary
def add_key(w: Writer, user_id: int, user_uuid: str, password: str,
            reason: str) -> SigningKey:
    """A new key pair sealed under `password`; its public key enters the audit chain
    with the row (Writer.insert audits every column)."""
    sealed = new_sealed_key(user_uuid, password)
    key_id = key_rows.insert_key(w, user_id, sealed.public_key_hex, sealed.sealed_json, reason)
    return SigningKey(key_id, sealed.private)


@service_boundary
def open_key(store: Store, user_id: int, password: str) -> SigningKey | None:
    """The user's current key, or None when there is none or it does not open with this
    (already checked) password: the caller then makes a new one."""
    key = key_rows.current_key(store, user_id)
    user_uuid = user_rows.uuid_of(store, user_id)
    if key is None or not user_uuid:
        return None
    try:
        return unseal(key.id, user_uuid, key.public_key, key.sealed_key, password)
    except KeyUnsealError:
        return None


@service_boundary
def replace_missing_key(store: Store, writer: Writer, user_id: int,
                        password: str) -> SigningKey:
    """A key for a user whose current one could not be opened (`open_key` gave None):
    the first login since keys exist, or a key that no longer opens with the password
    (a password hash replaced outside ketalog, which verify reports on its own)."""
    user_uuid = user_rows.uuid_of(store, user_id)
    assert user_uuid
    had = key_rows.current_key(store, user_id) is not None
    reason = ("the previous key does not open with the current password" if had
              else "first login since signing keys were introduced")
    return add_key(writer, user_id, user_uuid, password, reason)


@service_boundary
def signature_fields(key: SigningKey, *, session_uuid: str, user_id: int, at: str,
                     meaning: str, content_hash: str) -> dict[str, object]:
    """The signatures row's columns for one signature made with `key`."""
    message = signature_message(session_uuid=session_uuid, user_id=user_id, at=at,
                                meaning=meaning, content_hash=content_hash,
                                key_id=key.key_id)
    return {"session_id": None, "user_id": user_id, "at": at, "meaning": meaning,
            "content_hash": content_hash, "key_id": key.key_id,
            "signature": key.sign(message)}


@service_boundary
def session_signature(store: Store, key: SigningKey, *, session_id: int, session_uuid: str,
                      user_id: int, at: str, meaning: str) -> dict[str, object]:
    """The signatures row for a session as its content stands now: the content hash is
    taken here and signed with the signer's own key. The one rule for every signature
    (the nurse's at completion, the provider's at signing, the demo clinic's)."""
    digest = content_hash(session_content(store, session_id))
    return {**signature_fields(key, session_uuid=session_uuid, user_id=user_id, at=at,
                               meaning=meaning, content_hash=digest),
            "session_id": session_id}
