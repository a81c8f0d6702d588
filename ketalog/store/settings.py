"""Clinic settings in the store: each is one JSON value under its key, read with
`Store.setting` and written with `Writer.set_setting` (which audits every change). The
readers here say what a setting must hold and read anything else (missing, damaged or
edited by hand) as None or empty, so the caller's default applies."""

from __future__ import annotations

from collections.abc import Mapping

from ketalog.store.store import Store, Writer


def value(store: Store, key: str) -> object | None:
    """The setting's JSON value as stored (None when unset)."""
    return store.setting(key)


def number(store: Store, key: str) -> float | None:
    """A JSON number as a float (true/false count as 1/0, as in Python); else None."""
    found = store.setting(key)
    return float(found) if isinstance(found, int | float) else None


def text(store: Store, key: str) -> str:
    """A setting read as text: '' when unset or empty (a folder, an address)."""
    found = store.setting(key)
    return str(found) if found else ""


def mapping(store: Store, key: str) -> dict[str, object]:
    """A JSON object (a copy); {} when unset or not an object."""
    found = store.setting(key)
    return {str(k): v for k, v in found.items()} if isinstance(found, Mapping) else {}


def is_set(store: Store, key: str) -> bool:
    return store.setting(key) is not None


def write(w: Writer, key: str, new: object, reason: str = "") -> None:
    """Store `new` (anything JSON can hold) under `key`, audited in the caller's write."""
    w.set_setting(key, new, reason)
