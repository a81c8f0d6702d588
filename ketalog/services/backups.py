"""Backups a clinic can rely on without thinking: taken on close and every N hours to a
configured folder (e.g. a mounted drive), verified before they get their name, rotated
(all of the last 24 h, then 7 daily, 4 weekly, 12 monthly), each one audited. Only files that look like our own
backups of this database are ever deleted by the rotation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ketalog.domain.clock import Clock
from ketalog.domain.entities import Role
from ketalog.domain.errors import PlausibilityError
from ketalog.domain.retention import Retention, to_keep
from ketalog.services.anchors import write_anchor
from ketalog.services.backup_files import (  # the folder's names, re-exported for callers
    ANCHOR_FOLDER_SETTING,
    FOLDER_SETTING,
    STAMP,
    BackupFile,  # noqa: F401
    backup_folder,  # noqa: F401
    list_backups,
)
from ketalog.services.context import Context
from ketalog.services.errors import service_boundary
from ketalog.store import settings as stored
from ketalog.store.backup import (
    BackupReport,
    PhaseProgress,
    Progress,
    RestoreReport,
    backup_to,
    check_copy,
    restore_from,
)
from ketalog.store.connection import open_store
from ketalog.store.errors import StoreError
from ketalog.store.store import Actor, Store

EVERY_SETTING = "backup_every_hours"
DEFAULT_EVERY_HOURS = 24.0
DEFAULT_RETENTION = Retention()


@service_boundary
def backup_every_hours(store: Store) -> float:
    """0 means only on close."""
    hours = stored.number(store, EVERY_SETTING)
    return DEFAULT_EVERY_HOURS if hours is None else hours


@service_boundary
def anchor_folder_setting(store: Store) -> str:
    return stored.text(store, ANCHOR_FOLDER_SETTING)


@service_boundary
def set_backup_settings(ctx: Context, folder: str, every_hours: float,
                        anchor_folder: str | None = None) -> None:
    """`anchor_folder` (None: unchanged, "": beside the backups) holds the anchor log;
    another disk keeps it out of reach of whoever has the database."""
    ctx.require(Role.ADMIN, action="change backup settings")
    if not 0 <= every_hours <= 24 * 7:
        raise PlausibilityError.single(EVERY_SETTING, every_hours, "0-168 h",
                                       "Backups every 0 (only on close) to 168 hours")
    with ctx.store.write(ctx.actor) as w:
        stored.write(w, FOLDER_SETTING, folder.strip())
        stored.write(w, EVERY_SETTING, float(every_hours))
        if anchor_folder is not None and anchor_folder.strip() != anchor_folder_setting(
                ctx.store):
            stored.write(w, ANCHOR_FOLDER_SETTING, anchor_folder.strip())


@service_boundary
def run_backup(ctx: Context, db_path: Path, folder: Path, why: str,
               progress: Progress | None = None, rule: Retention = DEFAULT_RETENTION,
               phases: PhaseProgress | None = None) -> tuple[BackupReport, list[Path]]:
    """Back up, verify, rotate. `why` is "manual" (admins only), "on close" or
    "scheduled" (the app's own duty, whoever is logged in). Returns the report and the
    rotated-out files. The GUI runs the same three steps with the copy on a worker
    thread (`backup_target`, `backup_to` on `second_connection`, `finish_backup`)."""
    target = backup_target(ctx, db_path, folder, why)
    report = backup_to(ctx.store, target, progress, phases=phases)
    return report, finish_backup(ctx, db_path, folder, why, report, rule)


@service_boundary
def backup_copy(ctx: Context, out: Path, phases: PhaseProgress | None = None
                ) -> BackupReport:
    """One verified copy under a name the admin chose (outside the rotation). Audited
    before the copy, so the copy holds its own entry."""
    ctx.require(Role.ADMIN, action="back up the database")
    with ctx.store.write(ctx.actor) as w:
        w.event("backup", details={"to": str(out), "why": "manual"})
    return backup_to(ctx.store, out, phases=phases)


@service_boundary
def backup_target(ctx: Context, db_path: Path, folder: Path, why: str) -> Path:
    """Check who may back up and name the file (refused when the name is taken)."""
    if why == "manual":
        ctx.require(Role.ADMIN, action="back up the database")
    now = ctx.clock.now().astimezone(UTC)
    target = folder / f"{db_path.stem}-{now.strftime(STAMP)}.sqlite"
    if target.exists():  # two within a second: the newer one wins the name
        raise StoreError(f"a backup named {target.name} already exists; try again")
    return target


@service_boundary
def finish_backup(ctx: Context, db_path: Path, folder: Path, why: str, report: BackupReport,
                  rule: Retention = DEFAULT_RETENTION) -> list[Path]:
    """Rotate the folder and audit the backup (on the caller's connection)."""
    backups = list_backups(folder, db_path)
    keep = to_keep([b.taken_at for b in backups], rule)
    removed = [b.path for b in backups if b.taken_at not in keep]
    for path in removed:
        path.unlink(missing_ok=True)
    with ctx.store.write(ctx.actor) as w:
        w.event("backup", details={"to": str(report.path), "why": why,
                                   "bytes": report.size_bytes,
                                   "rotated_out": [p.name for p in removed]})
    _anchor(ctx.store, "backup")
    return removed


def _anchor(store: Store, why: str) -> None:
    write_anchor(store, why)


@service_boundary
def last_backup_at(folder: Path, db_path: Path) -> datetime | None:
    backups = list_backups(folder, db_path)
    return backups[0].taken_at if backups else None


@service_boundary
def backup_due(ctx: Context, folder: Path, db_path: Path) -> bool:
    every = backup_every_hours(ctx.store)
    if every <= 0:
        return False
    last = last_backup_at(folder, db_path)
    return last is None or (ctx.clock.now() - last).total_seconds() >= every * 3600


@service_boundary
def restore_database(source: Path, db_path: Path, clock: Clock, admin_username: str, *,
                     passphrase: str | None = None, admin_id: int | None = None,
                     details: dict[str, object] | None = None) -> tuple[RestoreReport, Store]:
    """Replace the closed database at `db_path` with `source` (the replaced file is kept
    aside), reopen it and record who restored what. The admin was authenticated by the
    caller, against whichever database still had them. An encrypted backup needs its
    passphrase and stays encrypted."""
    stamp = clock.now().astimezone().strftime(STAMP)
    report = restore_from(source, db_path, stamp, passphrase)
    store = open_store(db_path, clock, passphrase=passphrase)
    with store.write(Actor(admin_id, admin_username)) as w:
        w.event("restore", details={"from": str(source), "replaced_copy": str(
            report.replaced_copy) if report.replaced_copy else None, **(details or {})})
    _anchor(store, "restore")
    return report, store


@dataclass(frozen=True)
class BackupPreview:
    path: Path
    taken_at: datetime | None
    size_bytes: int
    patients: int
    sessions: int
    signatures: int
    vitals: int


@service_boundary
def preview_backup(path: Path, passphrase: str | None = None) -> BackupPreview:
    """What a backup holds, after the same checks a restore makes (integrity, schema,
    audit chain): shown before an admin replaces the database with it."""
    counts = check_copy(path, passphrase=passphrase)
    match = re.search(r"-(\d{8}-\d{6})\.sqlite$", path.name)
    taken = datetime.strptime(match.group(1), STAMP).replace(tzinfo=UTC) if match else None
    return BackupPreview(path, taken, path.stat().st_size, counts.get("patients", 0),
                         counts.get("sessions", 0), counts.get("signatures", 0),
                         counts.get("vitals", 0))
