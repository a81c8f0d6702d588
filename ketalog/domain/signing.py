"""Signatures that need the signer: each user holds an Ed25519 key pair whose private key
is sealed (ChaCha20-Poly1305) under a key derived from the user's password with argon2id.
Someone with the database file can recompute a SHA-256, but cannot make a signature
without the signer's password. Pure computation, no I/O."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from ketalog.domain.hashing import canonical_json

# Meanings written in signatures.meaning (the store's checks and the services share them).
NURSE_SIGNATURE = "completed by nurse"
PROVIDER_SIGNATURE = "reviewed and signed by provider"

# argon2id at the argon2-cffi default profile (RFC 9106 "low memory"): about as costly
# as one password check, so guessing a password from a sealed key is as slow as from
# its hash.
KDF = {"name": "argon2id", "time_cost": 3, "memory_cost_kib": 65536, "parallelism": 4}


class KeyUnsealError(Exception):
    """The sealed key does not open with this password (or was altered)."""


@dataclass(frozen=True)
class SealedKey:
    public_key_hex: str
    sealed_json: str  # {"kdf": ..., "salt": hex, "nonce": hex, "ciphertext": hex}
    private: Ed25519PrivateKey  # in memory only, never stored


@dataclass(frozen=True)
class SigningKey:
    """An unsealed private key, kept in memory for one login only."""

    key_id: int
    private: Ed25519PrivateKey

    def sign(self, message: bytes) -> str:
        return self.private.sign(message).hex()


def _derive(password: str, salt: bytes, kdf: dict[str, object]) -> bytes:
    if kdf.get("name") != "argon2id":
        raise KeyUnsealError(f"unknown key derivation {kdf.get('name')!r}")
    return hash_secret_raw(password.encode("utf-8"), salt, time_cost=_kdf_int(kdf, "time_cost"),
                           memory_cost=_kdf_int(kdf, "memory_cost_kib"),
                           parallelism=_kdf_int(kdf, "parallelism"),
                           hash_len=32, type=Type.ID)


def _kdf_int(kdf: dict[str, object], name: str) -> int:
    """A stored cost parameter as int() takes it; anything else is a TypeError, which
    `unseal` reports as a key that does not open."""
    value = kdf[name]
    if not isinstance(value, int | float | str):
        raise TypeError(f"key derivation {name} is {value!r}")
    return int(value)


def _aad(user_uuid: str, public_key_hex: str) -> bytes:
    """The sealed key is bound to its user and public key: moving it fails to open."""
    return f"ketalog signing key|{user_uuid}|{public_key_hex}".encode()


def new_sealed_key(user_uuid: str, password: str) -> SealedKey:
    private = Ed25519PrivateKey.generate()
    public_hex = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    salt, nonce = os.urandom(16), os.urandom(12)
    key = _derive(password, salt, KDF)
    ciphertext = ChaCha20Poly1305(key).encrypt(nonce, raw, _aad(user_uuid, public_hex))
    sealed = json.dumps({"kdf": KDF, "salt": salt.hex(), "nonce": nonce.hex(),
                         "ciphertext": ciphertext.hex()}, sort_keys=True)
    return SealedKey(public_hex, sealed, private)


def unseal(key_id: int, user_uuid: str, public_key_hex: str, sealed_json: str,
           password: str) -> SigningKey:
    try:
        sealed = json.loads(sealed_json)
        key = _derive(password, bytes.fromhex(sealed["salt"]), sealed["kdf"])
        raw = ChaCha20Poly1305(key).decrypt(bytes.fromhex(sealed["nonce"]),
                                            bytes.fromhex(sealed["ciphertext"]),
                                            _aad(user_uuid, public_key_hex))
    except (InvalidTag, ValueError, KeyError, TypeError) as exc:
        raise KeyUnsealError("the signing key does not open with this password") from exc
    private = Ed25519PrivateKey.from_private_bytes(raw)
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    if public != public_key_hex:
        raise KeyUnsealError("the sealed key does not belong to its public key")
    return SigningKey(key_id, private)


def signature_message(*, session_uuid: str, user_id: int, at: str, meaning: str,
                      content_hash: str, key_id: int) -> bytes:
    """What a signature signs: the content hash and who, when, what for, with which key."""
    return canonical_json({"session": session_uuid, "user_id": user_id, "at": at,
                           "meaning": meaning, "content_hash": content_hash,
                           "key_id": key_id}).encode("utf-8")


def signature_valid(public_key_hex: str, signature_hex: str, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex)).verify(
            bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True
