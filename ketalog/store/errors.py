"""Store errors carry a message a clinic can act on (no tracebacks for user errors)."""

from __future__ import annotations


class StoreError(Exception):
    """A problem with the database file that the user must act on."""


class NetworkFilesystemError(StoreError):
    pass


class NotKetalogDatabase(StoreError):
    pass


class RecordLocked(StoreError):
    """The session is signed; its records cannot change (corrections are addenda)."""


class NotFound(StoreError):
    pass


class Conflict(StoreError):
    """A uniqueness rule was violated (e.g. an MRN already in use)."""
