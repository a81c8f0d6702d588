"""`ketalog audit`: the audit log for admins from the command line, with the viewer's
filters; `--csv FILE` writes every matching entry (audited, like the GUI's export)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ketalog.cli import context
from ketalog.cli.output import day, table
from ketalog.domain.entities import Role


def cmd_audit(args: argparse.Namespace) -> int:
    from ketalog.services.audit_log import AuditFilter, export_audit_csv, search_audit

    f = AuditFilter(username=args.user_filter or "", mrn=args.patient or "",
                    since=day(args.since, "--from"), until=day(args.until, "--to"),
                    action=args.action or "")
    store = context.open_db(args)
    try:
        ctx = context.login(args, store, Role.ADMIN)
        if args.csv:
            count = export_audit_csv(ctx, f, Path(args.csv))
            print(f"wrote {count} audit entries to {args.csv}")
            return 0
        page = search_audit(ctx, f, page_size=args.limit)
    finally:
        store.close()
    print(table([[f"{e.at.astimezone():%Y-%m-%d %H:%M:%S}", e.username, e.action, e.table,
                  e.mrn or "-", e.reason or "-"] for e in page.lines],
                ["When", "Who", "Action", "Table", "Patient", "Reason"]))
    print(f"{len(page.lines)} of {page.total} matching entries, newest first"
          + (f" (--limit {args.limit}; --csv FILE writes them all)" if page.more else ""))
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("audit", help="show or export the audit log (admin)")
    p.add_argument("--user-filter", metavar="NAME", help="only entries by this user")
    p.add_argument("--patient", metavar="MRN", help="only entries about this patient")
    p.add_argument("--from", dest="since", metavar="YYYY-MM-DD", help="first day (local)")
    p.add_argument("--to", dest="until", metavar="YYYY-MM-DD", help="last day (local)")
    p.add_argument("--action", help="only this action (login, update, export, ...)")
    p.add_argument("--limit", type=int, default=50, help="entries to print (default 50)")
    p.add_argument("--csv", metavar="FILE", help="write every matching entry to a CSV file")
    p.set_defaults(func=cmd_audit)
