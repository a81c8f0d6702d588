"""Store errors carry a message a clinic can act on (no tracebacks for user errors)."""

from __future__ import annotations

from collections.abc import Callable


class StoreError(Exception):
    """A problem with the database file that the user must act on."""


class NetworkFilesystemError(StoreError):
    pass


class CannotOpen(StoreError):
    """The file cannot be used as it is: start-up offers the newest verified backup."""


class NotKetalogDatabase(CannotOpen):
    pass


class EmptyDatabase(CannotOpen):
    """A 0-byte file where a database should be: never taken for a new clinic."""


class DamagedDatabase(CannotOpen):
    """Header or pages damaged (quick_check, cipher_integrity_check or a read failed)."""


class NewerSchema(CannotOpen):
    """Written by a newer ketalog: updating ketalog is the fix; a backup loses data."""


class PassphraseRequired(StoreError):
    """The file is encrypted (or is not SQLite at all): ask for the passphrase."""


class WrongPassphrase(StoreError):
    pass


class EncryptionUnavailable(StoreError):
    pass


class ReadOnlyDatabase(StoreError):
    """File permissions or a read-only disk: nothing can be saved there."""


class NoPermission(ReadOnlyDatabase):
    """The OS account may not read or write the file or its folder (not damage)."""


class DiskFull(StoreError):
    """No space left: the file is fine, nothing could be saved (never restore for it)."""


class RecordLocked(StoreError):
    """The session is signed; its records cannot change (corrections are addenda)."""


class NotFound(StoreError):
    pass


class Conflict(StoreError):
    """A uniqueness rule was violated (e.g. an MRN already in use)."""


class ChangedMeanwhile(Conflict):
    """Another workstation changed the record after this screen read it: the later edit
    is refused (nothing saved) so the screen reloads instead of overwriting."""


class DatabaseClosed(StoreError):
    """The connection was closed (a logout or a restore closed it while a timer or a
    late callback still held the store): nothing was read or written."""


# Each engine registers its driver's exception classes and how to word them, so an
# error raised by a read (which has no write transaction to translate it) still reaches
# the service boundary as a StoreError, whatever engine is underneath.
_DRIVER_ERRORS: list[tuple[tuple[type[BaseException], ...],
                           Callable[[BaseException], StoreError]]] = []


def register_driver_errors(classes: tuple[type[BaseException], ...],
                           translate: Callable[[BaseException], StoreError]) -> None:
    if (classes, translate) not in _DRIVER_ERRORS:
        _DRIVER_ERRORS.append((classes, translate))


def from_driver(exc: BaseException) -> StoreError | None:
    """A registered driver's exception as a StoreError; None for anything else."""
    for classes, translate in _DRIVER_ERRORS:
        if isinstance(exc, classes):
            return translate(exc)
    return None
