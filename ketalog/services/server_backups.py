"""A clinic server's backups (`ketalog server backup|backups`), made on the server
machine by its administrator: a `pg_dump` in one snapshot, verified before it is kept
(restored into a scratch database on the same server, checked as `ketalog verify` checks
the server, its audit head compared with the live one's at the dump), rotated by the
rule the file backups use, and audited on the server as a `backup` event."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ketalog.domain.clock import Clock
from ketalog.domain.retention import Retention, to_keep
from ketalog.services.backup_files import STAMP, BackupFile
from ketalog.services.errors import ServiceError, service_boundary
from ketalog.store import pg_backup, pg_connection
from ketalog.store import settings as stored
from ketalog.store.anchor_queries import audit_head
from ketalog.store.private_files import private_folder
from ketalog.store.store import Actor
from ketalog.store.verify import verify_store

FOLDER_SETTING = "server_backup_folder"
SUFFIX = ".dump"
DEFAULT_RETENTION = Retention()


@dataclass(frozen=True)
class ServerBackup:
    path: Path
    size_bytes: int
    audit_entries: int  # the id of the head the backup holds (0 for an empty log)
    rotated_out: tuple[Path, ...]


def _stem(conninfo: str) -> str:
    return pg_connection.database_name(conninfo)


@service_boundary
def server_backup_folder(conninfo: str, default: Path) -> Path:
    """The folder the clinic's settings name for server backups, else `default`."""
    store = pg_connection.open_server_store(conninfo)
    try:
        folder = stored.text(store, FOLDER_SETTING)
    finally:
        store.close()
    return Path(folder).expanduser() if folder else default


@service_boundary
def list_server_backups(conninfo: str, folder: Path) -> list[BackupFile]:
    """This database's server backups in `folder`, newest first."""
    pattern = re.compile(rf"^{re.escape(_stem(conninfo))}-(\d{{8}}-\d{{6}}){re.escape(SUFFIX)}$")
    found: list[BackupFile] = []
    if not folder.is_dir():
        return found
    for path in folder.iterdir():
        match = pattern.match(path.name)
        if match and path.is_file():
            taken = datetime.strptime(match.group(1), STAMP).replace(tzinfo=UTC)
            found.append(BackupFile(path, taken, path.stat().st_size))
    return sorted(found, key=lambda b: b.taken_at, reverse=True)


@service_boundary
def back_up_server(conninfo: str, folder: Path, clock: Clock,
                   rule: Retention = DEFAULT_RETENTION) -> ServerBackup:
    """Dump, verify, rotate, audit. A dump that does not verify is removed and the
    problems raised; nothing is rotated out then."""
    location = pg_connection.safe_location(conninfo)
    now = clock.now().astimezone(UTC)
    target = private_folder(folder) / f"{_stem(conninfo)}-{now.strftime(STAMP)}{SUFFIX}"
    if target.exists():
        raise ServiceError(f"a backup named {target.name} already exists; try again")
    head = pg_backup.dump(conninfo, target)
    try:
        problems = _verify(conninfo, target, head, clock)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    if problems:
        target.unlink(missing_ok=True)
        raise ServiceError(f"the backup of {location} did not verify and was removed:\n"
                           + "\n".join(f"  - {p}" for p in problems))
    backups = list_server_backups(conninfo, folder)
    keep = to_keep([b.taken_at for b in backups], rule)
    removed = tuple(b.path for b in backups if b.taken_at not in keep)
    for path in removed:
        path.unlink(missing_ok=True)
    size = target.stat().st_size
    store = pg_connection.open_server_store(conninfo, clock)
    try:
        login = pg_backup.login_name(conninfo)
        with store.write(Actor(None, login)) as w:
            w.event("backup", details={"to": str(target), "why": "server",
                                       "bytes": size,
                                       "audit_head": head[0] if head else 0,
                                       "rotated_out": [p.name for p in removed]})
    finally:
        store.close()
    return ServerBackup(target, size, head[0] if head else 0, removed)


def _verify(conninfo: str, dump: Path, head: tuple[int, str] | None,
            clock: Clock) -> list[str]:
    with pg_backup.scratch_restore(conninfo, dump) as scratch:
        store = pg_connection.open_server_store(scratch, clock)
        try:
            problems = verify_store(store)
            restored = audit_head(store)
        finally:
            store.close()
    if restored != head:
        problems.append(f"audit head: the backup ends at {restored[0] if restored else 0}, "
                        f"the server's at the dump at {head[0] if head else 0}")
    return problems
