"""`ketalog server migrate-from FILE --db postgresql://...` (also `ketalog
migrate-to-server`): a single-workstation clinic's
whole history moved from its file to the clinic server's new, empty database, verified
before and after. The admin is one of the file's (--user or KETALOG_USER, and the
password); the server address names a login of the server's owner role. A line per table
on stderr as it is copied; the summary on stdout."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from ketalog.cli import context
from ketalog.cli.context import CliError
from ketalog.cli.progress import ProgressLine

COPY = "copy "


class MigrationProgress:
    """The verify phases on one progress line; each table, once copied, on its own."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.line = ProgressLine("migrate", self.stream)

    def __call__(self, phase: str, done: int, total: int) -> None:
        if not phase.startswith(COPY) or done < total:
            self.line(phase, done, total)
            return
        self.line.close()
        fresh = ProgressLine("migrate", self.stream)
        fresh.start = self.line.start
        self.line = fresh
        print(f"copied {phase.removeprefix(COPY)}: {total:,} row{'' if total == 1 else 's'}",
              file=self.stream, flush=True)

    def close(self) -> None:
        self.line.close()


def cmd_migrate_to_server(args: argparse.Namespace) -> int:
    from ketalog.services.server_migration import migrate_to_server

    if args.server is None:
        raise CliError("`ketalog server migrate-from` needs the new clinic database's address: "
                       "--db postgresql://OWNER@HOST/DATABASE (or KETALOG_DB); set it up "
                       "with `ketalog server init --for-move`")
    source = Path(args.file).expanduser()
    if not source.exists():
        raise CliError(f"no database file at {source}")
    key = context.passphrase_if_encrypted(source)
    username = context.username(args)
    if not username:
        raise CliError("give --user ADMIN (an admin of the file) and the password")
    password = context.password(f"Password for {username}: ")
    line = MigrationProgress()
    try:
        report = migrate_to_server(source, args.server, args.clock, username, password,
                                   passphrase=key, progress=line)
    finally:
        line.close()
    rows = sum(report.copied.values())
    print(f"moved {report.source} to {report.target} in {report.seconds:.1f} s: "
          f"{len(report.copied)} tables, {rows:,} rows")
    print("  " + ", ".join(f"{t} {n:,}" for t, n in report.copied.items()))
    print(f"  audit head: {report.source_head.describe()} in the file, "
          f"{report.target_head.describe()} on the server")
    print(f"  signed sessions: {report.signed_sessions}")
    print("  verify before (the file): sound")
    if report.sound:
        print("  verify after (the server): sound; rows per table, audit head and every "
              "signed session's content hash equal the file's")
        return 0
    print(f"  verify after (the server): {len(report.target_problems)} problem(s), "
          f"{len(report.differences)} difference(s) from the file:")
    for problem in (*report.target_problems, *report.differences):
        print(f"  - {problem}")
    return 1


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser],
               name: str = "migrate-to-server") -> None:
    """`ketalog migrate-to-server`, and `ketalog server migrate-from` (the same)."""
    p = sub.add_parser(name,
                       help="move this clinic's file, whole, into a new clinic server "
                            "database (admin of the file; the server's owner login)")
    p.add_argument("file", metavar="FILE.sqlite", help="the clinic's database file")
    context.database_option(p)  # the new, empty clinic database, as an owner login
    p.add_argument("--user", default=argparse.SUPPRESS,
                   help="an admin of the file (or KETALOG_USER)")
    p.set_defaults(func=cmd_migrate_to_server)
