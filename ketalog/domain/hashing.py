"""Canonical hashing: the same content always gives the same hash, whatever the key
order, so a signature or an audit entry can be re-checked years later."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

GENESIS_HASH = "0" * 64


def canonical_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False, default=str)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_hash(content: Mapping[str, object]) -> str:
    """Hash of a signed record's content (session row plus its child rows)."""
    return sha256_hex(canonical_json(content))


def audit_entry_hash(prev_hash: str, fields: Mapping[str, object]) -> str:
    """Each audit entry's hash covers its fields and the previous entry's hash."""
    return sha256_hex(prev_hash + "|" + canonical_json(fields))


def short_hash(full: str) -> str:
    return full[:12]
