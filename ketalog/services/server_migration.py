"""Moving a single-workstation clinic onto its clinic server: the whole history of its
SQLite file copied into a new, empty server database, verified before and after
(store/pg_migrate.py does the work).

Nobody logs in to the server's empty database, so the move is authorised as a restore
at start-up is: an admin's credentials checked against the users of the file being moved
(the same accounts and passwords that will then log in to the server). The file is only
read. The server address must name a login of the owner role; the workstations' logins
cannot write ids, sequences or the audit log verbatim."""

from __future__ import annotations

import logging
from pathlib import Path

from ketalog.domain.clock import Clock
from ketalog.domain.entities import User
from ketalog.services.errors import ServiceError, service_boundary
from ketalog.services.file_admin import admin_of
from ketalog.store.engine import FileKind, classify
from ketalog.store.pg_connection import is_server_address, safe_location
from ketalog.store.pg_migrate import AuditHead, MigrationReport, migrate_from_file
from ketalog.store.progress import PhaseProgress

__all__ = ["AuditHead", "MigrationReport", "admin_of_file", "migrate_to_server"]

log = logging.getLogger("ketalog.server_migration")


@service_boundary
def admin_of_file(source: Path, clock: Clock, username: str, password: str,
                  passphrase: str | None = None) -> User:
    """An active, unlocked admin of the file at `source` with this password, or an error."""
    if not source.exists():
        raise ServiceError(f"no database file at {source}")
    return admin_of(source, clock, username, password, passphrase, what="file",
                    to="move the database to a server")


@service_boundary
def migrate_to_server(source: Path, conninfo: str, clock: Clock, username: str,
                      password: str, passphrase: str | None = None,
                      progress: PhaseProgress | None = None) -> MigrationReport:
    """Copy the file's whole history into the empty clinic database at `conninfo`,
    authorised by an admin of the file; the report says what was copied and what the
    checks after the copy found (`sound`)."""
    if not is_server_address(conninfo):
        raise ServiceError(f"{conninfo} is not a clinic server address "
                           "(postgresql://user@host/database)")
    user = admin_of_file(source, clock, username, password, passphrase)
    target = safe_location(conninfo)
    log.warning("moving %s to %s (admin %s)", source, target, user.username)
    key = passphrase if classify(source) is FileKind.ENCRYPTED else None
    report = migrate_from_file(source, key, conninfo, clock, progress)
    log.warning("moved %s to %s in %.1f s: %s", source, target, report.seconds,
                "sound" if report.sound else
                f"{len(report.target_problems) + len(report.differences)} problem(s)")
    return report
