"""`ketalog init`, `demo` and `user add|unlock`: a clinic's database and its accounts."""

from __future__ import annotations

import argparse

from ketalog.cli import context
from ketalog.cli.context import NEW_PASSWORD_ENV
from ketalog.domain.entities import Role


def cmd_init(args: argparse.Namespace) -> int:
    from ketalog.services.clinic_setup import create_clinic

    store = context.open_new(args, encrypt=args.encrypt)
    try:
        password = context.password(f"New password for {args.admin}: ", confirm=True)
        user, seeded = create_clinic(store, args.clock, args.admin, password,
                                     display_name=args.name or args.admin,
                                     clinic_name=args.clinic)
    finally:
        store.close()
    print(f"created {args.where}{' (encrypted)' if args.encrypt else ''} for {args.clinic}: "
          f"admin {user.username}, {seeded} protocols from the clinical reference")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from ketalog.services.demo import create_demo

    store = context.open_db(args, create=True)
    try:
        report = create_demo(store, args.clock, seed=args.seed)
    finally:
        store.close()
    print(f"demo clinic '{report.clinic_name}' in {args.where}: {report.patients} patients, "
          f"{report.sessions} sessions ({report.signed} signed), {report.vitals} vitals")
    print("demo accounts (change these before real use):")
    for username, password in report.passwords.items():
        print(f"  {username:10s} {password}")
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    from ketalog.services.auth import add_user

    store = context.open_db(args)
    try:
        ctx = context.login(args, store, Role.ADMIN)
        roles = [Role(r.strip()) for part in args.role for r in part.split(",") if r.strip()]
        password = context.password(f"New password for {args.username}: ",
                                    env=NEW_PASSWORD_ENV, confirm=True)
        user = add_user(ctx, args.username, roles, password, display_name=args.name or "",
                        credentials=args.credentials or "")
    finally:
        store.close()
    print(f"added {user.username} ({', '.join(sorted(r.value for r in user.roles))})")
    return 0


def cmd_user_unlock(args: argparse.Namespace) -> int:
    from ketalog.services.auth import unlock

    store = context.open_db(args)
    try:
        unlock(context.login(args, store, Role.ADMIN), args.username, args.reason)
    finally:
        store.close()
    print(f"unlocked {args.username}")
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("init", help="create a new clinic database")
    p.add_argument("--clinic", required=True, help="clinic name (printed on PDFs)")
    p.add_argument("--admin", required=True, help="username of the first admin")
    p.add_argument("--name", help="the admin's display name")
    p.add_argument("--encrypt", action="store_true",
                   help="encrypt the file (SQLCipher) with a passphrase from a prompt or "
                        "KETALOG_PASSPHRASE; a lost passphrase means lost data")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("demo", help="fill an empty database with a realistic demo clinic")
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(func=cmd_demo)

    user = sub.add_parser("user", help="manage users (admin)")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    p = user_sub.add_parser("add", help="add a user; password from prompt or KETALOG_NEW_PASSWORD")
    p.add_argument("username")
    p.add_argument("--role", action="append", required=True,
                   help="nurse, provider or admin (repeat or comma-separate for several)")
    p.add_argument("--name", help="display name")
    p.add_argument("--credentials", help="professional title, e.g. RN, MD")
    p.set_defaults(func=cmd_user_add)
    p = user_sub.add_parser("unlock", help="unlock an account locked after failed logins")
    p.add_argument("username")
    p.add_argument("--reason", required=True)
    p.set_defaults(func=cmd_user_unlock)
