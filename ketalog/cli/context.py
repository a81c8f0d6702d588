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
from ketalog.paths import DB_ENV, backup_dir, default_db_path
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


# -- choosing the database ---------------------------------------------------------
def choose_database(args: argparse.Namespace) -> None:
    """--db (else KETALOG_DB, else this workstation's remembered choice, else the user
    data folder) as `args.db`, the local file's
    Path, or `args.server`, a clinic server's address (then `args.db` is None); and
    `args.where`, how messages name it (a server's address without its password)."""
    from ketalog.services.database import is_server_address, safe_location
    from ketalog.services.workstation import needs_choice, remembered_database

    given = str(args.db or os.environ.get(DB_ENV) or "").strip()
    args.ask_where = needs_choice(given)  # the GUI's first start asks (ui/database_choice)
    raw = given or remembered_database() or ""
    args.server = None
    if raw and is_server_address(raw):
        args.server, args.db = raw, None
        args.where = safe_location(raw)
        return
    args.db = (Path(raw) if raw else default_db_path()).expanduser()
    args.where = str(args.db)


def local_file(args: argparse.Namespace, refusal: str) -> Path:
    """The local database file, for a command that only makes sense on one; on a clinic
    server the command is refused with `refusal`, which says what to do instead."""
    if args.server is not None:
        raise CliError(f"`ketalog {args.command}` works on a local database file, and "
                       f"{args.where} is a clinic server: {refusal}")
    return Path(args.db)


# -- opening ------------------------------------------------------------------
def open_db(args: argparse.Namespace, create: bool = False) -> Store:
    """The database of --db for a command that reads and writes it: the local file, or
    the clinic server (which is never created or migrated from a workstation)."""
    return open_db_with_key(args, create)[0]


def open_db_with_key(args: argparse.Namespace, create: bool = False
                     ) -> tuple[Store, str | None]:
    """The database and the passphrase it took (None for a plain file or a server), for
    a command that opens connections of its own (the HL7 listener): asked once, not
    twice."""
    if args.server is not None:
        from ketalog.services.database import open_server_database

        return open_server_database(args.server, args.clock), None
    from ketalog.store.connection import open_store

    key = passphrase_if_encrypted(args.db)
    return open_store(args.db, args.clock, create=create, passphrase=key), key


def open_new(args: argparse.Namespace, encrypt: bool) -> Store:
    """A database for `init`: plain, or encrypted with a new passphrase (refused over an
    existing file, which `encrypt` converts instead)."""
    db = local_file(args, "a clinic server is set up with `ketalog server init` "
                          "(see docs/server.md)")
    if not encrypt:
        return open_db(args, create=True)
    from ketalog.store.connection import open_store
    from ketalog.store.engine import check_passphrase_policy

    if db.exists() and db.stat().st_size:
        raise CliError(f"{db} already exists; `ketalog encrypt` converts it")
    key = passphrase("New passphrase for the database: ", confirm=True)
    check_passphrase_policy(key)
    return open_store(db, args.clock, passphrase=key)


def open_to_verify(args: argparse.Namespace) -> Store:
    """Read-only, no migration, no new file: verify must not change what it checks."""
    from ketalog.store.connection import open_for_verify

    if args.server:  # the server's catalog, chain, signatures and history (pg_verify)
        from ketalog.services.database import open_server_database

        return open_server_database(args.server, args.clock)
    db = local_file(args, "")
    return open_for_verify(db, args.clock, passphrase=passphrase_if_encrypted(db))


def open_if_sound(args: argparse.Namespace) -> tuple[Store | None, str]:
    """(the existing database, '') if it opens; (None, '') if it is missing or empty;
    (None, why) if it cannot be opened. A restore then checks the admin against the
    backup instead."""
    db = local_file(args, "a clinic server is restored on the server with pg_restore "
                          "(see docs/server.md)")
    if not (db.exists() and db.stat().st_size):
        return None, ""
    from ketalog.store.connection import open_store

    try:
        return open_store(db, args.clock, create=False,
                          passphrase=passphrase_if_encrypted(db)), ""
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

    return start(args.server if args.server is not None else args.db, smoke=args.smoke,
                 ask_where=getattr(args, "ask_where", False))


# -- one line for what went wrong ---------------------------------------------------
def failure_line(exc: Exception, db_path: Path | None) -> str:
    """What `ketalog: error:` says for an exception a command let out (`db_path` None:
    the database is a clinic server, which has no backup folder beside it)."""
    if isinstance(exc, StoreFailed):  # the store's own error, as a service passed it on
        exc = exc.store_error
    if isinstance(exc, CannotOpen):
        return f"{exc}." + (backup_hint(db_path) if db_path is not None else "")
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


def unexpected_error(exc: BaseException, db_path: Path | None) -> str:
    """One line for what the commands do not expect: a database that reads wrong (pages
    or text damaged after it opened), a file the system refused, or a bug of ours, whose
    traceback goes to the log file instead of the screen."""
    import sqlite3
    import traceback

    from ketalog.paths import log_dir
    from ketalog.store.diagnosis import environment_problem, from_os_error

    if isinstance(exc, sqlite3.Error) and db_path is not None:
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
        return str(from_os_error(Path(exc.filename or db_path or "."), exc))
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


def database_option(parser: argparse.ArgumentParser) -> None:
    """--db after the command as well as before it (`ketalog server init --db ...`)."""
    parser.add_argument("--db", default=argparse.SUPPRESS,
                        metavar="postgresql://USER@HOST/DB",
                        help="the clinic server's address (or KETALOG_DB)")
