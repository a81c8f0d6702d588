"""`ketalog verify`, `backup`, `restore`, `encrypt` and `recover-admin`: the commands a
clinic trusts its file to. Passphrases, opening and the backup hint live in context."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ketalog.cli import context
from ketalog.cli.context import NEW_PASSWORD_ENV, CliError
from ketalog.cli.progress import ProgressLine
from ketalog.domain.entities import Role
from ketalog.paths import backup_dir

BACKUP_REFUSAL = ("backups of a clinic server are made on the server with pg_dump: see "
                  "docs/server.md")
RESTORE_REFUSAL = ("a clinic server is restored on the server with pg_restore from its "
                   "pg_dump backup: see docs/server.md")


def cmd_verify(args: argparse.Namespace) -> int:
    from ketalog.services.integrity import verify_database

    store = context.open_to_verify(args)
    line = ProgressLine("verify")
    try:
        report = verify_database(store, line, documents=tuple(Path(d) for d in args.document),
                                 typed_heads=tuple(args.anchor))
    finally:
        line.close()
        store.close()
    if report.problems:
        print(f"{args.where}: {len(report.problems)} problem(s) found:")
        for problem in report.problems:
            print(f"  - {problem}")
        return 1
    print(f"{args.where}: sound ({'encryption page checks, ' if report.encrypted else ''}"
          f"integrity, foreign keys, protection triggers and their code, audit chain of "
          f"{report.audit_entries} entries against {report.anchors} anchors and the "
          f"backups, every signature against its signer's key, rows against their "
          f"history)")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    """Without --out: the same verified, rotated backup the app takes, into the clinic's
    backup folder; with --out: one verified copy under that name."""
    from ketalog.services.backups import backup_copy, backup_folder, run_backup

    db = context.local_file(args, BACKUP_REFUSAL)
    store = context.open_db(args)
    line = ProgressLine("backup")
    try:
        ctx = context.login(args, store, Role.ADMIN)
        if args.out:
            report = backup_copy(ctx, Path(args.out), phases=line)
        else:
            folder = backup_folder(store, backup_dir(db))
            report, _ = run_backup(ctx, db, folder, "manual", phases=line)
    finally:
        line.close()
        store.close()
    rows = sum(v for k, v in report.row_counts.items() if not k.startswith("_"))
    print(f"backup written and verified: {report.path} ({report.size_bytes / 1e6:.1f} MB, "
          f"{rows} rows)")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from ketalog.services.backups import preview_backup, restore_database
    from ketalog.services.recovery import admin_in_backup

    db = context.local_file(args, RESTORE_REFUSAL)
    source = Path(args.file)
    if not source.exists():
        raise CliError(f"no backup file at {source}")
    key = context.passphrase_if_encrypted(source)
    preview_backup(source, passphrase=key)  # refuse a bad copy before asking anyone
    # Authenticate an admin against the current database if it opens, else (missing or
    # damaged) against the backup's own accounts.
    actor = None
    auth_store, why_not = context.open_if_sound(args)
    if why_not:
        print(f"ketalog: {why_not}; checking the admin against the backup", file=sys.stderr)
    if auth_store is not None:
        try:
            actor = context.login(args, auth_store, Role.ADMIN).actor
        finally:
            auth_store.close()
    actor_id: int | None  # who restores: the backup's admin or the one logged in here
    if actor is None:
        username = context.username(args)
        if not username:
            raise CliError("give --user ADMIN (an admin of the backup) and the password")
        user = admin_in_backup(source, args.clock, username,
                               context.password(f"Password for {username}: "), key)
        actor_name, actor_id = user.username, user.id
    else:
        actor_name, actor_id = actor.username, actor.user_id
    report, store = restore_database(source, db, args.clock, actor_name, passphrase=key,
                                     admin_id=actor_id)
    store.close()
    print(f"restored {db} from {source}"
          + (f"; the replaced file is kept at {report.replaced_copy}" if report.replaced_copy else ""))
    return 0


def cmd_encrypt(args: argparse.Namespace) -> int:
    from ketalog.services.encryption import encrypt_database

    db = context.local_file(args, "SQLCipher encrypts the local file; a clinic server's data "
                                  "is protected at rest by the server's disk encryption and "
                                  "in transit by TLS (see docs/server.md)")
    store = context.open_db(args)
    try:
        if store.encrypted:
            print(f"{db} is already encrypted")
            return 0
        ctx = context.login(args, store, Role.ADMIN)
        key = context.passphrase("New passphrase for the database: ", confirm=True)
        outcome, encrypted = encrypt_database(ctx, key, backup_dir(db), args.keep_plain)
        encrypted.close()
    finally:
        store.close()
    print(f"encrypted {db} (SQLCipher 4, verified: "
          f"{sum(outcome.report.row_counts.values())} rows); first encrypted backup: "
          f"{outcome.backup.path}")
    if outcome.report.plain_copy:
        print(f"WARNING: the unencrypted original is kept at {outcome.report.plain_copy}; "
              "delete it once you have checked the encrypted database")
    else:
        print("the unencrypted original was overwritten and removed")
    if outcome.plain_copies:
        print("these copies are still UNENCRYPTED; delete them once an encrypted backup is "
              "safely off site:")
        for path in outcome.plain_copies:
            print(f"  {path}")
    print("Keep the passphrase safe: without it the database cannot be read by anyone, "
          "including you.")
    return 0


def cmd_recover_admin(args: argparse.Namespace) -> int:
    from ketalog.services.admin_recovery import current_os_account, recover_admin

    context.local_file(args, "it needs the OS account that owns the file; on a clinic server "
                             "another admin unlocks with `ketalog user unlock` (see "
                             "docs/server.md)")
    store = context.open_db(args)
    try:
        password = context.password(f"New password for {args.username}: ",
                                    env=NEW_PASSWORD_ENV, confirm=True)
        recover_admin(store, current_os_account(), args.username, password, args.reason)
    finally:
        store.close()
    print(f"{args.username} is unlocked with the new password; the recovery is in the "
          "audit log")
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """verify, backup, restore and encrypt, in the order `ketalog --help` lists them."""
    p = sub.add_parser("verify", help="check integrity, audit chain and signatures")
    p.add_argument("--document", action="append", default=[], metavar="FILE.pdf",
                   help="also check the audit head a printed or exported ketalog PDF "
                        "carries (repeatable)")
    p.add_argument("--anchor", action="append", default=[], metavar='"ENTRY HASH"',
                   help='also check a head typed back from a page footer, e.g. '
                        '"1234 3f9a0b1c2d3e4f56" (repeatable)')
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("backup", help="write a verified backup copy (admin)")
    p.add_argument("--out", help="backup file (default: backups folder beside the database)")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help="replace the database with a verified backup (admin)")
    p.add_argument("file")
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser("encrypt", help="encrypt an existing database with a passphrase "
                                       "(admin; every ketalog on it must be closed)")
    p.add_argument("--keep-plain", action="store_true",
                   help="keep the unencrypted original beside it (default: wipe it)")
    p.set_defaults(func=cmd_encrypt)


def add_recovery_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "recover-admin",
        help="unlock the last admin and set a new password (needs the OS account that owns "
             "the database file)")
    p.add_argument("username")
    p.add_argument("--reason", required=True, help="why (kept in the audit log)")
    p.set_defaults(func=cmd_recover_admin)
