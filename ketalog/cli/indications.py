"""`ketalog indications`: the clinic's coded indication list (category, default protocol)
and, with --unmapped, the free-text indications no coded one matches (admin), so they can
be added with `--add NAME --category pain|mood|other`."""

from __future__ import annotations

import argparse

from ketalog.cli import context
from ketalog.cli.output import table
from ketalog.domain.entities import Role


def cmd_indications(args: argparse.Namespace) -> int:
    from ketalog.services.indications import (
        add_indication,
        list_indications,
        migration_unmapped,
        unmapped_indications,
    )
    from ketalog.services.protocols import list_protocols

    store = context.open_db(args)
    try:
        ctx = context.login(args, store, Role.ADMIN)
        if args.add:
            added = add_indication(ctx, args.add, args.category or "other")
            print(f"added {added.name} ({added.category.value})")
        if args.unmapped:
            rows = unmapped_indications(store)
            at_migration = migration_unmapped(store)
            print(table([[text, str(n)] for text, n in rows], ["Indication as typed",
                                                               "Patients"]))
            print(f"{len(rows)} free-text indication(s) not on the coded list"
                  + (f" ({len(at_migration)} when the list was introduced)"
                     if at_migration else ""))
            return 0
        protocols = {p.id: p.name for p in list_protocols(ctx, include_retired=True)}
        print(table([[i.name, i.category.value,
                      protocols.get(i.default_protocol_id or -1, "-")]
                     for i in list_indications(ctx)],
                    ["Indication", "Category", "Default protocol"]))
    finally:
        store.close()
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("indications", help="the coded indication list; --unmapped (admin)")
    p.add_argument("--unmapped", action="store_true",
                   help="list free-text indications no coded one matches")
    p.add_argument("--add", metavar="NAME", help="add a coded indication")
    p.add_argument("--category", choices=("pain", "mood", "other"),
                   help="category of the indication added (default other)")
    p.set_defaults(func=cmd_indications)
