"""`ketalog server init|migrate|add-login|backup|backups`: setting up a clinic's PostgreSQL server and
keeping its schema current, run by the clinic's administrator (docs/server.md). The
--db address names the server, the database and the PostgreSQL login these act as; its
password comes from the address, PGPASSWORD or ~/.pgpass (libpq), never from ketalog."""

from __future__ import annotations

import argparse
from pathlib import Path

from ketalog.cli import context, server_migrate
from ketalog.cli.context import CliError

LOGIN_PASSWORD_ENV = "KETALOG_LOGIN_PASSWORD"


def _server(args: argparse.Namespace) -> str:
    if args.server is None:
        raise CliError(f"`ketalog server {args.server_command}` needs the clinic server's "
                       "address: --db postgresql://USER@HOST/DATABASE (or KETALOG_DB); a "
                       "local file is created with `ketalog init`")
    return str(args.server)


def _login_password(name: str) -> str:
    return context.password(f"New password for the PostgreSQL login {name}: ",
                            env=LOGIN_PASSWORD_ENV, confirm=True)


def cmd_init(args: argparse.Namespace) -> int:
    from ketalog.services.server_setup import init_server

    conninfo = _server(args)
    if not args.for_move and not (args.clinic and args.admin):
        raise CliError("`ketalog server init` needs --clinic and --admin (or "
                               "--for-move, to move a local file in with `server migrate-from`)")
    done = init_server(
        conninfo, args.clock, args.admin or "",
        lambda: context.password(f"New password for {args.admin}: ", confirm=True),
        display_name=args.name or args.admin or "", clinic_name=args.clinic or "",
        workstation_logins=args.workstation_login, owner_logins=args.owner_login,
        login_password=_login_password, for_move=args.for_move)
    for role in done.roles_found:
        print(f"role {role} already exists; kept as it is")
    for role in done.roles_created:
        print(f"created the role {role}")
    print(f"created the database {done.location}" if done.database_created else
          f"the database {done.location} already exists (empty); using it")
    print(f"schema: {len(done.steps_applied)} step(s) applied" if done.steps_applied else
          "schema: already at the latest step")
    for login in done.logins:
        print(f"created the login {login.name} ({login.role})" if login.created else
              f"the login {login.name} already exists; its password is unchanged")
    if done.admin is None:
        print(f"{done.location} is ready, empty, for `ketalog server migrate-from FILE "
              "--db ...` (run by an owner login)")
        return 0
    print(f"set up {args.clinic} on {done.location}: admin {done.admin.username}, "
          f"{done.protocols} protocols from the clinical reference, {done.seeded_rows} seed "
          "rows")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from ketalog.services.server_setup import migrate_server

    applied = migrate_server(_server(args), args.clock)
    if applied:
        print(f"{args.where}: applied the schema steps {', '.join(applied)}")
    else:
        print(f"{args.where}: the schema is up to date")
    return 0


def cmd_add_login(args: argparse.Namespace) -> int:
    from ketalog.services.server_setup import OWNER_ROLE, WORKSTATION_ROLE, add_server_login

    role = OWNER_ROLE if args.owner else WORKSTATION_ROLE
    login = add_server_login(_server(args), args.name, _login_password, role=role)
    print(f"created the login {login.name} ({login.role})" if login.created else
          f"the login {login.name} already exists; its password is unchanged")
    return 0


def _backups_folder(args: argparse.Namespace) -> Path:
    from ketalog.paths import backup_dir
    from ketalog.services.server_backups import server_backup_folder

    if args.to:
        return Path(args.to).expanduser()
    return server_backup_folder(_server(args), backup_dir() / "server")


def cmd_backup(args: argparse.Namespace) -> int:
    from ketalog.services.server_backups import back_up_server

    folder = _backups_folder(args)
    done = back_up_server(_server(args), folder, args.clock)
    print(f"{args.where}: backed up to {done.path} ({done.size_bytes} bytes), restored "
          f"into a scratch database and verified (audit head {done.audit_entries})")
    for path in done.rotated_out:
        print(f"rotated out {path.name}")
    return 0


def cmd_backups(args: argparse.Namespace) -> int:
    from ketalog.services.server_backups import list_server_backups

    folder = _backups_folder(args)
    found = list_server_backups(_server(args), folder)
    if not found:
        print(f"no server backups of {args.where} in {folder}")
    for backup in found:
        print(f"{backup.path.name}  {backup.taken_at:%Y-%m-%d %H:%M:%S} UTC  "
              f"{backup.size_bytes} bytes")
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    server = sub.add_parser("server", help="set up or update a clinic's PostgreSQL server "
                                           "(its administrator; docs/server.md)")
    server_sub = server.add_subparsers(dest="server_command", required=True)
    p = server_sub.add_parser(
        "init", help="roles, database, schema and first admin of a new clinic; --db names a "
                     "PostgreSQL superuser (or a role with CREATEROLE and CREATEDB)")
    p.add_argument("--clinic", help="clinic name (printed on PDFs); needed unless --for-move")
    p.add_argument("--admin", help="username of the clinic's first admin; needed unless "
                                   "--for-move")
    p.add_argument("--for-move", action="store_true",
                   help="roles, database and schema only, empty, for `ketalog "
                        "server migrate-from FILE` to move a local file's whole history in")
    p.add_argument("--name", help="the admin's display name")
    p.add_argument("--workstation-login", action="append", default=[], metavar="NAME",
                   help="also create this PostgreSQL login for workstations (repeatable; "
                        f"password from a prompt or {LOGIN_PASSWORD_ENV})")
    p.add_argument("--owner-login", action="append", default=[], metavar="NAME",
                   help="also create this PostgreSQL login for `ketalog server migrate`")
    context.database_option(p)
    p.set_defaults(func=cmd_init)

    server_migrate.add_parser(server_sub, "migrate-from")

    p = server_sub.add_parser("migrate", help="apply the schema steps this ketalog brings "
                                              "(before updating the workstations)")
    context.database_option(p)
    p.set_defaults(func=cmd_migrate)

    p = server_sub.add_parser("add-login", help="create a PostgreSQL login for a workstation "
                                                "(password from a prompt or "
                                                f"{LOGIN_PASSWORD_ENV})")
    p.add_argument("name")
    p.add_argument("--owner", action="store_true",
                   help="a login for migrating (member of the owner role) instead")
    context.database_option(p)
    p.set_defaults(func=cmd_add_login)

    for name, func, text in (
            ("backup", cmd_backup, "pg_dump the database, verify the dump in a scratch "
                                   "database, rotate the folder; --db names a login that "
                                   "may create databases"),
            ("backups", cmd_backups, "list the server backups in the folder")):
        p = server_sub.add_parser(name, help=text)
        p.add_argument("--to", metavar="FOLDER",
                       help="the backups folder (default: the clinic's server backup "
                            "folder setting, else the data folder's backups/server)")
        context.database_option(p)
        p.set_defaults(func=func)
