"""Encryption at rest, chosen later: an admin converts the clinic's plain database to an
SQLCipher one in place (see store/encryption.py for how it stays crash-safe), the
conversion is audited in the encrypted file, and a first encrypted backup is taken at
once so the clinic's newest backup is never a plain one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

from ketalog.domain.entities import Role
from ketalog.services.auth import user_by_id
from ketalog.services.backup_files import backup_folder
from ketalog.services.backups import run_backup
from ketalog.services.context import Context
from ketalog.services.errors import service_boundary
from ketalog.store.backup import BackupReport
from ketalog.store.connection import open_store
from ketalog.store.encryption import EncryptReport, encrypt_in_place, plain_copies
from ketalog.store.engine import check_passphrase_policy
from ketalog.store.errors import StoreError
from ketalog.store.store import Store


@dataclass(frozen=True)
class EncryptOutcome:
    report: EncryptReport
    backup: BackupReport
    plain_copies: list[Path]  # still unencrypted: for the admin to dispose of


@service_boundary
def encrypt_database(ctx: Context, passphrase: str, default_backups: Path,
                     keep_plain: bool = False) -> tuple[EncryptOutcome, Store]:
    """Close `ctx.store`, encrypt its file, reopen it with the passphrase. Returns the
    reopened store (the caller closes it). Every other ketalog must be closed."""
    ctx.require(Role.ADMIN, action="encrypt the database")
    check_passphrase_policy(passphrase)
    if ctx.store.encrypted:
        raise StoreError(f"{ctx.store.path} is already encrypted")
    db_path, clock = ctx.store.path, ctx.clock
    folder = backup_folder(ctx.store, default_backups)
    ctx.store.close()
    stamp = clock.now().astimezone(UTC).strftime("%Y%m%d-%H%M%S")
    report = encrypt_in_place(db_path, passphrase, stamp, keep_plain)
    store = open_store(db_path, clock, create=False, passphrase=passphrase)
    try:
        user = user_by_id(store, ctx.user.id or 0)
        if user is None:  # cannot happen: the users table was copied whole
            raise StoreError("the admin is missing from the encrypted copy")
        admin = Context(store, clock, user)
        with store.write(admin.actor) as w:
            w.event("encrypt", details={
                "cipher": "SQLCipher 4", "rows": sum(report.row_counts.values()),
                "plain_copy_kept": str(report.plain_copy) if report.plain_copy else None})
        backup, _ = run_backup(admin, db_path, folder, "manual")
    except BaseException:
        store.close()
        raise
    leftovers = [p for p in plain_copies(db_path, folder) if p != report.plain_copy]
    return EncryptOutcome(report, backup, leftovers), store
