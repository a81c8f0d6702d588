"""Start-up recovery: when the database cannot be opened (damaged, not ketalog, newer
schema), find the newest backup that passes verification and restore it.

Nobody can log in to a file that cannot be opened, so the restore is authorised by an
admin's credentials checked against the users table *of the backup being restored*:
the same accounts and passwords that will own the restored file. The backup is only
read for this (no failed-attempt counting is possible in a read-only file; argon2's cost
is what slows guessing, and the attempt is logged). The restore itself is audited in
the restored file, with the reason it was needed."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ketalog.domain.clock import Clock
from ketalog.domain.entities import User
from ketalog.services.backup_files import BackupFile, list_backups
from ketalog.services.backups import restore_database
from ketalog.services.errors import service_boundary
from ketalog.services.file_admin import admin_of
from ketalog.store.backup import RestoreReport, check_copy
from ketalog.store.engine import FileKind, classify
from ketalog.store.errors import StoreError
from ketalog.store.store import Store

log = logging.getLogger("ketalog.recovery")


@dataclass(frozen=True)
class Candidate:
    path: Path
    taken_at: datetime | None
    encrypted: bool
    counts: dict[str, int] | None  # None: not verified (encrypted, passphrase not given)
    problem: str = ""

    @property
    def verified(self) -> bool:
        return self.counts is not None

    def describe(self) -> str:
        when = f"{self.taken_at.astimezone():%Y-%m-%d %H:%M}" if self.taken_at else "?"
        if self.counts is not None:
            c = self.counts
            return (f"{self.path.name} (taken {when}): checked sound; {c.get('patients', 0)} "
                    f"patients, {c.get('sessions', 0)} sessions, {c.get('vitals', 0)} vitals")
        if self.problem:
            return f"{self.path.name} (taken {when}): unusable: {self.problem}"
        return f"{self.path.name} (taken {when}): encrypted; checked once the passphrase is given"


@service_boundary
def examine(path: Path, passphrase: str | None = None,
            taken_at: datetime | None = None) -> Candidate:
    encrypted = classify(path) is FileKind.ENCRYPTED
    if encrypted and passphrase is None:
        return Candidate(path, taken_at, True, None)
    try:
        return Candidate(path, taken_at, encrypted, check_copy(path, passphrase=passphrase))
    except StoreError as exc:
        return Candidate(path, taken_at, encrypted, None, str(exc))


@service_boundary
def candidates(folder: Path, db_path: Path, passphrase: str | None = None,
               limit: int = 10) -> list[Candidate]:
    """Backups of this database, newest first, each verified where possible."""
    found: list[BackupFile] = list_backups(folder, db_path)[:limit]
    return [examine(b.path, passphrase, b.taken_at) for b in found]


@service_boundary
def newest_usable(folder: Path, db_path: Path, passphrase: str | None = None
                  ) -> Candidate | None:
    """The newest backup that verified, or (encrypted, no passphrase yet) may verify."""
    for candidate in candidates(folder, db_path, passphrase):
        if candidate.verified or (candidate.encrypted and not candidate.problem):
            return candidate
    return None


@service_boundary
def admin_in_backup(source: Path, clock: Clock, username: str, password: str,
                    passphrase: str | None = None) -> User:
    """An active, unlocked admin of the backup with this password, or an error."""
    key = passphrase if classify(source) is FileKind.ENCRYPTED else None
    check_copy(source, passphrase=key)
    return admin_of(source, clock, username, password, passphrase, what="backup",
                    to="restore the database")


@service_boundary
def restore_at_startup(source: Path, db_path: Path, clock: Clock, username: str,
                       password: str, problem: str, passphrase: str | None = None
                       ) -> tuple[RestoreReport, Store]:
    """Restore `source` over an unopenable database, authorised by the backup's admin."""
    key = passphrase if classify(source) is FileKind.ENCRYPTED else None
    user = admin_in_backup(source, clock, username, password, key)
    log.warning("restoring %s from %s at start-up (admin %s): %s", db_path, source,
                user.username, problem)
    return restore_database(source, db_path, clock, user.username, passphrase=key,
                            admin_id=user.id, details={
                                "at_startup": True, "problem": problem,
                                "authorised_by": "admin credentials in the backup"})
