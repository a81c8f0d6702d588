"""The `ketalog` command: the parser, one module per command group, and the one rule all
commands share: a user error prints one line on stderr and exits 1, never a traceback.
Without a subcommand it opens the GUI (Qt is imported only then)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ketalog import __version__
from ketalog.cli import (
    access,
    clinic,
    context,
    exports,
    feed,
    indications,
    records,
    server,
    server_migrate,
    stock,
    trust,
)
from ketalog.domain.clock import Clock, SystemClock
from ketalog.domain.errors import PlausibilityError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ketalog", description="Ketamine infusion logbook.")
    parser.add_argument("--version", action="version", version=f"ketalog {__version__}")
    parser.add_argument("--db", default=None, metavar="FILE|postgresql://USER@HOST/DB",
                        help="database file, or a clinic server's address (default: "
                             "KETALOG_DB or the user data folder)")
    parser.add_argument("--user", default=None, help="act as this user (or KETALOG_USER)")
    parser.add_argument("--smoke", action="store_true", help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command")

    clinic.add_parsers(sub)
    records.add_parsers(sub)
    export = sub.add_parser("export", help="write PDFs, FHIR or CSV; audited")
    export_sub = export.add_subparsers(dest="what", required=True)
    exports.add_export_parsers(export_sub)
    exports.add_import_parsers(sub)
    stock.add_parsers(sub, export_sub)
    trust.add_parsers(sub)
    access.add_parser(sub)
    indications.add_parser(sub)
    trust.add_recovery_parser(sub)
    feed.add_parser(sub)
    feed.add_sender(sub)
    server.add_parsers(sub)
    server_migrate.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None, clock: Clock | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    context.choose_database(args)
    args.clock = clock or SystemClock()
    func = getattr(args, "func", context.run_gui)
    try:
        return int(func(args))
    except PlausibilityError as exc:
        _say(f"ketalog: invalid input: {exc}")
    except KeyboardInterrupt:
        _say("ketalog: interrupted")
        return 130
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        _say(f"ketalog: error: {context.failure_line(exc, args.db)}")
    return 1


def _say(message: str, limit: int = 600) -> None:
    """One line on stderr, however long the input it quotes (a 50,000-character MRN)."""
    line = " ".join(message.split())
    print(line if len(line) <= limit else line[:limit] + "...", file=sys.stderr)
