"""The `ketalog` command's trust parts: passphrases for encrypted files, `encrypt`, and
the one-line hint naming the newest verified backup when a database cannot be opened."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from ketalog.paths import backup_dir

PASSPHRASE_ENV = "KETALOG_PASSPHRASE"


class PassphraseUnavailable(Exception):
    pass


def passphrase(prompt: str, confirm: bool = False) -> str:
    """From KETALOG_PASSPHRASE (automation) or a terminal prompt."""
    value = os.environ.get(PASSPHRASE_ENV)
    if value:
        return value
    if not sys.stdin.isatty():
        raise PassphraseUnavailable(f"the database is encrypted: set {PASSPHRASE_ENV} or run "
                                    "in a terminal to be asked for the passphrase")
    first = getpass.getpass(prompt)
    if confirm and getpass.getpass("Repeat the passphrase: ") != first:
        raise PassphraseUnavailable("the two passphrases differ")
    return first


def passphrase_if_encrypted(path: Path) -> str | None:
    from ketalog.store.engine import FileKind, classify

    if classify(path) is FileKind.ENCRYPTED:
        return passphrase(f"Passphrase for {path.name}: ")
    return None


def backup_hint(db_path: Path) -> str:
    """' Newest verified backup: ...; restore it with ...' or a sentence saying none."""
    from ketalog.services.recovery import newest_usable

    folder = backup_dir(db_path)
    try:
        key = os.environ.get(PASSPHRASE_ENV) or None
        best = newest_usable(folder, db_path, key)
    except Exception as exc:  # a hint must never hide the real message
        return f" (could not look for backups: {exc})"
    if best is None:
        return f" No verified backup found in {folder}."
    return (f" Newest {'verified' if best.verified else 'encrypted'} backup: {best.path}; "
            f"restore it with `ketalog --db {db_path} --user ADMIN restore {best.path}`.")


def cmd_encrypt(args: argparse.Namespace) -> int:
    from ketalog.cli import _login, _open
    from ketalog.domain.entities import Role
    from ketalog.services.encryption import encrypt_database

    store = _open(args)
    try:
        if store.encrypted:
            print(f"{args.db} is already encrypted")
            return 0
        ctx = _login(args, store, Role.ADMIN)
        key = passphrase("New passphrase for the database: ", confirm=True)
        outcome, encrypted = encrypt_database(ctx, key, backup_dir(args.db), args.keep_plain)
        encrypted.close()
    finally:
        store.close()
    print(f"encrypted {args.db} (SQLCipher 4, verified: "
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


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("encrypt", help="encrypt an existing database with a passphrase "
                                       "(admin; every ketalog on it must be closed)")
    p.add_argument("--keep-plain", action="store_true",
                   help="keep the unencrypted original beside it (default: wipe it)")
    p.set_defaults(func=cmd_encrypt)


def cmd_recover_admin(args: argparse.Namespace) -> int:
    from ketalog.cli import _open, _password
    from ketalog.services.admin_recovery import current_os_account, recover_admin

    store = _open(args)
    try:
        password = _password(f"New password for {args.username}: ", env="KETALOG_NEW_PASSWORD",
                             confirm=True)
        recover_admin(store, current_os_account(), args.username, password, args.reason)
    finally:
        store.close()
    print(f"{args.username} is unlocked with the new password; the recovery is in the "
          "audit log")
    return 0


def add_recovery_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "recover-admin",
        help="unlock the last admin and set a new password (needs the OS account that owns "
             "the database file)")
    p.add_argument("username")
    p.add_argument("--reason", required=True, help="why (kept in the audit log)")
    p.set_defaults(func=cmd_recover_admin)


def unexpected_error(exc: BaseException, db_path: Path) -> str:
    """One line for what the commands do not expect: a database that reads wrong (pages
    or text damaged after it opened), a file the system refused, or a bug of ours, whose
    traceback goes to the log file instead of the screen."""
    import sqlite3
    import traceback

    from ketalog.paths import log_dir
    from ketalog.store.diagnosis import environment_problem, from_os_error

    if isinstance(exc, sqlite3.Error):
        text = str(exc).replace("\n", " ")[:200]
        found = environment_problem(db_path)
        if found is not None:
            return str(found)
        if "decode" in text.lower() and "utf-8" in text.lower():
            what = "holds damaged text (not valid UTF-8)"
        else:
            what = f"could not be read ({text})"
        return (f"{db_path} {what}: it may be damaged; run `ketalog verify`."
                f"{backup_hint(db_path)}")
    if isinstance(exc, OSError):
        return str(from_os_error(Path(exc.filename or db_path), exc))
    if isinstance(exc, UnicodeError):
        return f"text that is not valid in its encoding ({exc.reason})"
    where = log_dir() / "cli-errors.log"
    try:
        from ketalog.store.private_files import private_folder

        private_folder(where.parent)
        fd = os.open(where, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write("".join(traceback.format_exception(exc)))
        logged = f" (details in {where})"
    except OSError:
        logged = ""
    return f"unexpected {type(exc).__name__}: {str(exc)[:200]}{logged}"
