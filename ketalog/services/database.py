"""Opening the database for the front ends' composition roots (start-up, the smoke run, a
reopen after a failed restore, a backup's worker connection, a command's database): the
local file, or the clinic server a `postgresql://` address names. Behind the service
boundary like every service, so the GUI tells a passphrase, an unusable file and other
refusals apart by the ServiceError classes in services/errors.py, never the store's."""

from __future__ import annotations

from pathlib import Path

from ketalog.domain.clock import Clock
from ketalog.services.errors import service_boundary
from ketalog.store.backup import BackupReport, backup_to
from ketalog.store.connection import open_store, second_connection
from ketalog.store.location import is_server_address
from ketalog.store.progress import PhaseProgress
from ketalog.store.store import Store

__all__ = ["BackupReport", "Database", "copy_for_backup", "is_server_address",
           "open_database_file", "open_server_database", "safe_location", "worker_connection"]

#: The handle of an open database that the front ends hold before anyone logs in (the
#: login and first-run dialogs, start-up and its checks) and hand back to services; they
#: never read or write through it themselves.
Database = Store


@service_boundary
def open_database_file(path: Path, clock: Clock, *, passphrase: str | None = None,
                  quick_check: bool = True) -> Store:
    """The store at `path`, created and migrated if needed (`open_store`)."""
    return open_store(path, clock, passphrase=passphrase, quick_check=quick_check)


@service_boundary
def open_server_database(conninfo: str, clock: Clock) -> Store:
    """The clinic server's database at `conninfo` (a workstation's opening: the schema
    must be the one this ketalog knows; it never migrates)."""
    from ketalog.store.pg_connection import open_server_store  # psycopg loads only here

    return open_server_store(conninfo, clock)


@service_boundary
def safe_location(conninfo: str) -> str:
    """The server's address without its password, for every message and log line."""
    from ketalog.store.pg_connection import safe_location as without_password

    return without_password(conninfo)


@service_boundary
def worker_connection(store: Store) -> Store:
    """Another connection to `store`'s file for a worker thread (`second_connection`)."""
    return second_connection(store)


@service_boundary
def copy_for_backup(worker: Store, target: Path, phases: PhaseProgress | None = None
                    ) -> BackupReport:
    """The copy and its check, on the worker thread that owns `worker` (a connection
    from `worker_connection`, closed here whatever happens). The GUI then audits and
    rotates with `backups.finish_backup` on its own thread."""
    try:
        return backup_to(worker, target, phases=phases)
    finally:
        worker.close()
