"""The command line's composition root: the one cli module that touches ketalog.store
(and, for the bare `ketalog`, ketalog.ui). It asks for passwords and passphrases, opens
the database the way each command needs it, logs the user in, and turns whatever goes
wrong into the one line `main` prints. Command modules get a Store and a Context from
here and hand them to the services; they never import the store themselves."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ketalog.domain.entities import Role
from ketalog.domain.scales import ScaleError
from ketalog.paths import backup_dir
from ketalog.services.context import Context
from ketalog.services.errors import ServiceError, StoreFailed
from ketalog.store.errors import CannotOpen, StoreError

if TYPE_CHECKING:
    from ketalog.store.store import Store

PASSWORD_ENV = "KETALOG_PASSWORD"
NEW_PASSWORD_ENV = "KETALOG_NEW_PASSWORD"
PASSPHRASE_ENV = "KETALOG_PASSPHRASE"
USER_ENV = "KETALOG_USER"


class CliError(Exception):
    """A user error found by the command line itself (a missing flag, a bad date)."""


class PassphraseUnavailable(Exception):
    pass


# -- asking -------------------------------------------------------------------
def password(prompt: str, env: str = PASSWORD_ENV, confirm: bool = False) -> str:
    """From `env` (automation) or a terminal prompt; never from a pipe."""
    value = os.environ.get(env)
    if value:
        return value
    if not sys.stdin.isatty():
        raise CliError(f"no password: set {env} or run in a terminal to be asked")
    first = getpass.getpass(prompt)
    if confirm and getpass.getpass("Repeat: ") != first:
        raise CliError("the two passwords differ")
    return first


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
    """Asked only for a file whose header says it is encrypted."""
    from ketalog.store.engine import FileKind, classify

    if classify(path) is FileKind.ENCRYPTED:
        return passphrase(f"Passphrase for {path.name}: ")
    return None


def username(args: argparse.Namespace) -> str:
    """--user, else KETALOG_USER, else '' (the caller words what is missing)."""
    return str(args.user or os.environ.get(USER_ENV) or "")


# -- opening ------------------------------------------------------------------
def open_db(args: argparse.Namespace, create: bool = False) -> Store:
    """The database of --db for a command that reads and writes it."""
    return open_db_with_key(args, create)[0]


def open_db_with_key(args: argparse.Namespace, create: bool = False
                     ) -> tuple[Store, str | None]:
    """The database and the passphrase it took (None for a plain file), for a command
    that opens connections of its own (the HL7 listener): asked once, not twice."""
    from ketalog.store.connection import open_store

    key = passphrase_if_encrypted(args.db)
    return open_store(args.db, args.clock, create=create, passphrase=key), key


def open_new(args: argparse.Namespace, encrypt: bool) -> Store:
    """A database for `init`: plain, or encrypted with a new passphrase (refused over an
    existing file, which `encrypt` converts instead)."""
    if not encrypt:
        return open_db(args, create=True)
    from ketalog.store.connection import open_store
    from ketalog.store.engine import check_passphrase_policy

    if args.db.exists() and args.db.stat().st_size:
        raise CliError(f"{args.db} already exists; `ketalog encrypt` converts it")
    key = passphrase("New passphrase for the database: ", confirm=True)
    check_passphrase_policy(key)
    return open_store(args.db, args.clock, passphrase=key)


def open_to_verify(args: argparse.Namespace) -> Store:
    """Read-only, no migration, no new file: verify must not change what it checks."""
    from ketalog.store.connection import open_for_verify

    return open_for_verify(args.db, args.clock, passphrase=passphrase_if_encrypted(args.db))


def open_if_sound(args: argparse.Namespace) -> tuple[Store | None, str]:
    """(the existing database, '') if it opens; (None, '') if it is missing or empty;
    (None, why) if it cannot be opened. A restore then checks the admin against the
    backup instead."""
    if not (args.db.exists() and args.db.stat().st_size):
        return None, ""
    from ketalog.store.connection import open_store

    try:
        return open_store(args.db, args.clock, create=False,
                          passphrase=passphrase_if_encrypted(args.db)), ""
    except CannotOpen as exc:
        return None, str(exc)


# -- logging in -----------------------------------------------------------------
def login(args: argparse.Namespace, store: Store, *roles: Role) -> Context:
    """The user of --user (or KETALOG_USER) with the password of KETALOG_PASSWORD or a
    prompt; with `roles`, one of them is required for this command."""
    from ketalog.services.auth import login as service_login

    name = username(args)
    if not name:
        raise CliError("this command acts as a user: give --user NAME (or set KETALOG_USER) "
                       "and the password via prompt or KETALOG_PASSWORD")
    ctx = service_login(store, args.clock, name, password(f"Password for {name}: "))
    if roles:
        ctx.require(*roles, action=f"run `{args.command}`")
    return ctx


# -- the GUI --------------------------------------------------------------------
def run_gui(args: argparse.Namespace) -> int:
    """`ketalog` alone: hand over to the GUI's own composition root (Qt loads only here)."""
    from ketalog.ui.app import run_gui as start

    return start(args.db, smoke=args.smoke)


# -- one line for what went wrong ---------------------------------------------------
def failure_line(exc: Exception, db_path: Path) -> str:
    """What `ketalog: error:` says for an exception a command let out."""
    if isinstance(exc, StoreFailed):  # the store's own error, as a service passed it on
        exc = exc.store_error
    if isinstance(exc, CannotOpen):
        return f"{exc}.{backup_hint(db_path)}"
    if isinstance(exc, PassphraseUnavailable | CliError | ServiceError | StoreError
                  | ScaleError):
        return str(exc)
    return unexpected_error(exc, db_path)


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
