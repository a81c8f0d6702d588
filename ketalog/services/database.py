"""Opening the database file for the GUI's composition root (start-up, the smoke run, a
reopen after a failed restore, a backup's worker connection): behind the service boundary
like every service, so the GUI tells a passphrase, an unusable file and other refusals
apart by the ServiceError classes in services/errors.py, never the store's."""

from __future__ import annotations

from pathlib import Path

from ketalog.domain.clock import Clock
from ketalog.services.errors import service_boundary
from ketalog.store.connection import open_store, second_connection
from ketalog.store.store import Store


@service_boundary
def open_database_file(path: Path, clock: Clock, *, passphrase: str | None = None,
                  quick_check: bool = True) -> Store:
    """The store at `path`, created and migrated if needed (`open_store`)."""
    return open_store(path, clock, passphrase=passphrase, quick_check=quick_check)


@service_boundary
def worker_connection(store: Store) -> Store:
    """Another connection to `store`'s file for a worker thread (`second_connection`)."""
    return second_connection(store)
