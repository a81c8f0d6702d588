"""The `ketalog` command. Without a subcommand it opens the GUI (Qt is imported only
then); every other command is headless. User errors print one line and exit 1."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from ketalog import __version__
from ketalog.cli_trust import PassphraseUnavailable
from ketalog.domain.clock import Clock, SystemClock, from_iso
from ketalog.domain.entities import Role
from ketalog.domain.errors import PlausibilityError
from ketalog.domain.scales import ScaleError
from ketalog.paths import backup_dir, default_db_path
from ketalog.services.context import Context
from ketalog.services.errors import ServiceError
from ketalog.store.errors import CannotOpen, StoreError


class CliError(Exception):
    pass


def _password(prompt: str, env: str = "KETALOG_PASSWORD", confirm: bool = False) -> str:
    value = os.environ.get(env)
    if value:
        return value
    if not sys.stdin.isatty():
        raise CliError(f"no password: set {env} or run in a terminal to be asked")
    first = getpass.getpass(prompt)
    if confirm and getpass.getpass("Repeat: ") != first:
        raise CliError("the two passwords differ")
    return first


def _open(args: argparse.Namespace, create: bool = False):  # noqa: ANN202 - Store
    from ketalog.cli_trust import passphrase_if_encrypted
    from ketalog.store.connection import open_store

    return open_store(args.db, args.clock, create=create,
                      passphrase=passphrase_if_encrypted(args.db))


def _login(args: argparse.Namespace, store, *roles: Role) -> Context:  # noqa: ANN001
    from ketalog.services.auth import login

    username = args.user or os.environ.get("KETALOG_USER")
    if not username:
        raise CliError("this command acts as a user: give --user NAME (or set KETALOG_USER) "
                       "and the password via prompt or KETALOG_PASSWORD")
    ctx = login(store, args.clock, username, _password(f"Password for {username}: "))
    if roles:
        ctx.require(*roles, action=f"run `{args.command}`")
    return ctx


def _local(text: object) -> str:
    if not text:
        return "-"
    return from_iso(str(text)).astimezone().strftime("%Y-%m-%d %H:%M")


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=True))
             for r in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# -- commands ----------------------------------------------------------------
def cmd_gui(args: argparse.Namespace) -> int:
    from ketalog.ui.app import run_gui

    return run_gui(args.db, smoke=args.smoke)


def cmd_init(args: argparse.Namespace) -> int:
    from ketalog.services.auth import bootstrap_admin
    from ketalog.services.protocols import seed_protocols
    from ketalog.store.store import SYSTEM

    if args.encrypt:
        from ketalog.cli_trust import passphrase
        from ketalog.store.connection import open_store
        from ketalog.store.engine import check_passphrase_policy

        if args.db.exists() and args.db.stat().st_size:
            raise CliError(f"{args.db} already exists; `ketalog encrypt` converts it")
        key = passphrase("New passphrase for the database: ", confirm=True)
        check_passphrase_policy(key)
        store = open_store(args.db, args.clock, passphrase=key)
    else:
        store = _open(args, create=True)
    try:
        password = _password(f"New password for {args.admin}: ", confirm=True)
        user = bootstrap_admin(store, args.clock, args.admin, password,
                               display_name=args.name or args.admin, clinic_name=args.clinic)
        seeded = seed_protocols(store, SYSTEM)
    finally:
        store.close()
    print(f"created {args.db}{' (encrypted)' if args.encrypt else ''} for {args.clinic}: "
          f"admin {user.username}, {seeded} protocols from the clinical reference")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from ketalog.services.demo import create_demo

    store = _open(args, create=True)
    try:
        report = create_demo(store, args.clock, seed=args.seed)
    finally:
        store.close()
    print(f"demo clinic '{report.clinic_name}' in {args.db}: {report.patients} patients, "
          f"{report.sessions} sessions ({report.signed} signed), {report.vitals} vitals")
    print("demo accounts (change these before real use):")
    for username, password in report.passwords.items():
        print(f"  {username:10s} {password}")
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    from ketalog.services.auth import add_user

    store = _open(args)
    try:
        ctx = _login(args, store, Role.ADMIN)
        roles = [Role(r.strip()) for part in args.role for r in part.split(",") if r.strip()]
        password = _password(f"New password for {args.username}: ", env="KETALOG_NEW_PASSWORD",
                             confirm=True)
        user = add_user(ctx, args.username, roles, password, display_name=args.name or "",
                        credentials=args.credentials or "")
    finally:
        store.close()
    print(f"added {user.username} ({', '.join(sorted(r.value for r in user.roles))})")
    return 0


def cmd_user_unlock(args: argparse.Namespace) -> int:
    from ketalog.services.auth import unlock

    store = _open(args)
    try:
        unlock(_login(args, store, Role.ADMIN), args.username, args.reason)
    finally:
        store.close()
    print(f"unlocked {args.username}")
    return 0


def cmd_patients(args: argparse.Namespace) -> int:
    from ketalog.services.patients import search_patients

    store = _open(args)
    try:
        ctx = _login(args, store)
        patients = search_patients(ctx, args.search or "", limit=100000)
    finally:
        store.close()
    if args.json:
        print(json.dumps([{"id": p.id, "uuid": p.uuid, "mrn": p.mrn,
                           "family_name": p.family_name, "given_name": p.given_name,
                           "birth_date": p.birth_date.isoformat(), "sex": p.sex,
                           "allergies": p.allergies, "indication": p.indication}
                          for p in patients], ensure_ascii=False, indent=1))
    else:
        print(_table([[p.mrn, p.display_name, p.birth_date.isoformat(),
                       p.indication, p.allergies or "-"] for p in patients],
                     ["MRN", "Name", "DOB", "Indication", "Allergies"]))
    return 0


def cmd_sessions(args: argparse.Namespace) -> int:
    from ketalog.services.patients import patient_by_mrn
    from ketalog.services.summary import session_rows

    store = _open(args)
    try:
        ctx = _login(args, store)
        patient_id = patient_by_mrn(ctx, args.patient).id if args.patient else None
        rows = session_rows(store, patient_id, now=args.clock.now())
    finally:
        store.close()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
    else:
        def nrs(r: dict[str, object]) -> str:
            pre, post = r["nrs_pre"], r["nrs_post"]
            return "-" if pre is None else f"{pre} -> {'-' if post is None else post}"
        print(_table([[str(r["id"]), str(r["mrn"]), str(r["patient"]), _local(r["start"]),
                       str(r["series"]), str(r["status"]), f"{r['total_mg']:.1f}",
                       f"{r['mg_per_kg']:.2f}", nrs(r)] for r in rows],
                     ["ID", "MRN", "Patient", "Start", "Series", "Status", "Total mg",
                      "mg/kg", "NRS"]))
    return 0


def cmd_export_pdf(args: argparse.Namespace) -> int:
    from ketalog.services.exports import export_session_pdf

    store = _open(args)
    try:
        ctx = _login(args, store)
        out = export_session_pdf(ctx, args.session, Path(args.out).expanduser())
    finally:
        store.close()
    print(f"wrote {out}")
    return 0


def _date(text: str | None, flag: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CliError(f"{flag} must be a date like 2026-01-31, not {text!r}") from exc


def cmd_export_course(args: argparse.Namespace) -> int:
    from ketalog.services.exports import export_course_pdf
    from ketalog.services.patients import patient_by_mrn

    since, until = _date(args.since, "--from"), _date(args.until, "--to")
    store = _open(args)
    try:
        ctx = _login(args, store)
        patient = patient_by_mrn(ctx, args.patient)
        out = export_course_pdf(ctx, patient.id or 0, Path(args.out).expanduser(), since,
                                until)
    finally:
        store.close()
    print(f"wrote {out}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from ketalog.cli_progress import ProgressLine
    from ketalog.cli_trust import passphrase_if_encrypted
    from ketalog.services.anchors import anchor_count, anchor_problems
    from ketalog.store.connection import open_for_verify
    from ketalog.store.verify import verify_store

    store = open_for_verify(args.db, args.clock, passphrase=passphrase_if_encrypted(args.db))
    line = ProgressLine("verify")
    try:
        problems = verify_store(store, line)
        problems += anchor_problems(store)
        counts = store.table_counts()
        encrypted = store.encrypted
        anchors = anchor_count(store)
    finally:
        line.close()
        store.close()
    if problems:
        print(f"{args.db}: {len(problems)} problem(s) found:")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    print(f"{args.db}: sound ({'encryption page checks, ' if encrypted else ''}integrity, "
          f"foreign keys, protection triggers and their code, audit chain of "
          f"{counts.get('audit_log', 0)} entries against {anchors} anchors and the "
          f"backups, every signature against its signer's key, rows against their "
          f"history)")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    """Without --out: the same verified, rotated backup the app takes, into the clinic's
    backup folder; with --out: one verified copy under that name."""
    from ketalog.cli_progress import ProgressLine
    from ketalog.services.backups import backup_folder, run_backup
    from ketalog.store.backup import backup_to

    store = _open(args)
    line = ProgressLine("backup")
    try:
        ctx = _login(args, store, Role.ADMIN)
        if args.out:
            with store.write(ctx.actor) as w:
                w.event("backup", details={"to": str(args.out), "why": "manual"})
            report = backup_to(store, Path(args.out), phases=line)
        else:
            folder = backup_folder(store, backup_dir(args.db))
            report, _ = run_backup(ctx, args.db, folder, "manual", phases=line)
    finally:
        line.close()
        store.close()
    rows = sum(v for k, v in report.row_counts.items() if not k.startswith("_"))
    print(f"backup written and verified: {report.path} ({report.size_bytes / 1e6:.1f} MB, "
          f"{rows} rows)")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from ketalog.cli_trust import passphrase_if_encrypted
    from ketalog.services.backups import restore_database
    from ketalog.services.recovery import admin_in_backup
    from ketalog.store.backup import check_copy
    from ketalog.store.connection import open_store
    from ketalog.store.errors import CannotOpen

    source = Path(args.file)
    if not source.exists():
        raise CliError(f"no backup file at {source}")
    key = passphrase_if_encrypted(source)
    check_copy(source, passphrase=key)
    # Authenticate an admin against the current database if it opens, else (missing or
    # damaged) against the backup's own accounts.
    actor = None
    if args.db.exists() and args.db.stat().st_size:
        try:
            auth_store = open_store(args.db, args.clock, create=False,
                                    passphrase=passphrase_if_encrypted(args.db))
        except CannotOpen as exc:
            print(f"ketalog: {exc}; checking the admin against the backup", file=sys.stderr)
        else:
            try:
                actor = _login(args, auth_store, Role.ADMIN).actor
            finally:
                auth_store.close()
    if actor is None:
        username = args.user or os.environ.get("KETALOG_USER")
        if not username:
            raise CliError("give --user ADMIN (an admin of the backup) and the password")
        user = admin_in_backup(source, args.clock, username,
                               _password(f"Password for {username}: "), key)
        actor_name, actor_id = user.username, user.id
    else:
        actor_name, actor_id = actor.username, actor.user_id
    report, store = restore_database(source, args.db, args.clock, actor_name, passphrase=key,
                                     admin_id=actor_id)
    store.close()
    print(f"restored {args.db} from {source}"
          + (f"; the replaced file is kept at {report.replaced_copy}" if report.replaced_copy else ""))
    return 0


# -- parser -----------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ketalog", description="Ketamine infusion logbook.")
    parser.add_argument("--version", action="version", version=f"ketalog {__version__}")
    parser.add_argument("--db", type=Path, default=None,
                        help="database file (default: KETALOG_DB or the user data folder)")
    parser.add_argument("--user", default=None, help="act as this user (or KETALOG_USER)")
    parser.add_argument("--smoke", action="store_true", help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command")

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

    p = sub.add_parser("patients", help="list patients")
    p.add_argument("--search", help="MRN, name or birth date prefix")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_patients)

    p = sub.add_parser("sessions", help="list sessions with dose totals and pain scores")
    p.add_argument("--patient", metavar="MRN")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sessions)

    export = sub.add_parser("export", help="write PDFs, FHIR or CSV; audited")
    export_sub = export.add_subparsers(dest="what", required=True)
    p = export_sub.add_parser("pdf", help="the session summary as PDF")
    p.add_argument("--session", type=int, required=True, help="session id (see `sessions`)")
    p.add_argument("--out", required=True, help="PDF file to write")
    p.set_defaults(func=cmd_export_pdf)
    p = export_sub.add_parser("course", help="a patient's course summary as PDF")
    p.add_argument("--patient", required=True, help="the patient's MRN")
    p.add_argument("--from", dest="since", help="first infusion day (YYYY-MM-DD)")
    p.add_argument("--to", dest="until", help="last infusion day (YYYY-MM-DD)")
    p.add_argument("--out", required=True, help="PDF file to write")
    p.set_defaults(func=cmd_export_course)
    from ketalog.cli_interop import add_export_commands, add_import_commands

    add_export_commands(export_sub)
    add_import_commands(sub)
    from ketalog.cli_stock import add_stock_commands

    add_stock_commands(sub, export_sub)

    p = sub.add_parser("verify", help="check integrity, audit chain and signatures")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("backup", help="write a verified backup copy (admin)")
    p.add_argument("--out", help="backup file (default: backups folder beside the database)")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help="replace the database with a verified backup (admin)")
    p.add_argument("file")
    p.set_defaults(func=cmd_restore)

    from ketalog.cli_trust import add_parsers

    add_parsers(sub)
    from ketalog.cli_access import add_parser as add_audit

    add_audit(sub)

    from ketalog.cli_trust import add_recovery_parser

    add_recovery_parser(sub)

    from ketalog.cli_hl7 import add_parser as add_listen_hl7
    from ketalog.cli_hl7 import add_sender as add_send_hl7

    add_listen_hl7(sub)
    add_send_hl7(sub)
    return parser


def main(argv: Sequence[str] | None = None, clock: Clock | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.db = (args.db or default_db_path()).expanduser()
    args.clock = clock or SystemClock()
    func = getattr(args, "func", cmd_gui)
    try:
        return int(func(args))
    except PlausibilityError as exc:
        _say(f"ketalog: invalid input: {exc}")
    except CannotOpen as exc:
        from ketalog.cli_trust import backup_hint

        _say(f"ketalog: error: {exc}.{backup_hint(args.db)}")
    except PassphraseUnavailable as exc:
        _say(f"ketalog: error: {exc}")
    except (CliError, ServiceError, StoreError, ScaleError) as exc:
        _say(f"ketalog: error: {exc}")
    except KeyboardInterrupt:
        _say("ketalog: interrupted")
        return 130
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        from ketalog.cli_trust import unexpected_error

        _say(f"ketalog: error: {unexpected_error(exc, args.db)}")
    return 1


def _say(message: str, limit: int = 600) -> None:
    """One line on stderr, however long the input it quotes (a 50,000-character MRN)."""
    line = " ".join(message.split())
    print(line if len(line) <= limit else line[:limit] + "...", file=sys.stderr)


