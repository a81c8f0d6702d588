"""`ketalog stock list` (balances per lot) and `ketalog export stock`: the
controlled-substance commands. Services check the roles and audit."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ketalog.cli import context
from ketalog.cli.context import CliError
from ketalog.cli.output import day, table


def cmd_stock_list(args: argparse.Namespace) -> int:
    from ketalog.domain.stock import containers_text
    from ketalog.services import stock

    store = context.open_db(args)
    try:
        data = stock.board_data(context.login(args, store))
    finally:
        store.close()
    today = data.as_of.astimezone().date()
    rows = []
    for lot in data.lots:
        b = data.picture.balances[lot.id]
        rows.append({"lot_id": lot.id, "location": lot.location, "product": lot.product,
                     "strength_mg_per_ml": lot.strength_mg_per_ml,
                     "container_ml": lot.container_ml, "lot": lot.lot_number,
                     "expiry": lot.expiry.isoformat(), "expired": lot.expired_on(today),
                     "recalled": lot.recalled, "received_mg": round(b.received_mg, 3),
                     "drawn_mg": round(b.drawn_mg, 3), "returned_mg": round(b.returned_mg, 3),
                     "wasted_from_stock_mg": round(b.wasted_from_stock_mg, 3),
                     "adjusted_mg": round(b.adjusted_mg, 3),
                     "balance_mg": round(b.balance_mg, 3),
                     "balance_containers": round(b.containers, 4)})
    if args.json:
        print(json.dumps({"as_of": data.as_of.isoformat(), "lots": rows,
                          "open_discrepancies": [
                              {"key": d.key, "kind": d.kind.value, "text": d.text}
                              for d in data.picture.open_discrepancies]},
                         ensure_ascii=False, indent=1))
        return 0
    print(table([[r["location"], r["product"], f"{r['strength_mg_per_ml']:g} mg/mL",
                  f"{r['container_ml']:g} mL", r["lot"], r["expiry"]
                  + (" expired" if r["expired"] else "") + (" recalled" if r["recalled"] else ""),
                  f"{r['balance_mg']:g}", containers_text(data.picture.balances[r["lot_id"]])]
                 for r in rows],
                ["Location", "Product", "Strength", "Container", "Lot", "Expiry",
                 "Balance mg", "Containers"]))
    n_open = len(data.picture.open_discrepancies)
    print(f"{n_open} open discrepanc{'y' if n_open == 1 else 'ies'}")
    return 0


def cmd_export_stock(args: argparse.Namespace) -> int:
    from ketalog.services.stock_export import export_stock

    since, until = day(args.since, "--from"), day(args.until, "--to")
    if since is None or until is None:
        raise CliError("give --from and --to (YYYY-MM-DD)")
    store = context.open_db(args)
    try:
        result = export_stock(context.login(args, store), since, until,
                              Path(args.out).expanduser())
    finally:
        store.close()
    for path in result.files:
        print(f"wrote {path}")
    return 0


def add_parsers(sub: argparse._SubParsersAction,  # type: ignore[type-arg]
                export_sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    stock = sub.add_parser("stock", help="controlled-substance stock (admin, provider)")
    stock_sub = stock.add_subparsers(dest="stock_command", required=True)
    p = stock_sub.add_parser("list", help="balances per lot and open discrepancies")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_stock_list)
    p = export_sub.add_parser("stock", help="the controlled-substance record as PDF or CSV")
    p.add_argument("--from", dest="since", required=True, help="first day (YYYY-MM-DD)")
    p.add_argument("--to", dest="until", required=True, help="last day (YYYY-MM-DD)")
    p.add_argument("--out", required=True,
                   help="FILE.pdf (whole report) or FILE.csv (movement log; the "
                        "reconciliation, inventory and administrations beside it)")
    p.set_defaults(func=cmd_export_stock)
