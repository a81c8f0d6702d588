"""`ketalog patients` and `sessions`: the records, as a table or (--json) for scripts."""

from __future__ import annotations

import argparse
import json

from ketalog.cli import context
from ketalog.cli.output import local, table


def cmd_patients(args: argparse.Namespace) -> int:
    from ketalog.services.patients import search_patients

    store = context.open_db(args)
    try:
        ctx = context.login(args, store)
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
        print(table([[p.mrn, p.display_name, p.birth_date.isoformat(),
                      p.indication, p.allergies or "-"] for p in patients],
                    ["MRN", "Name", "DOB", "Indication", "Allergies"]))
    return 0


def _nrs(row: dict[str, object]) -> str:
    pre, post = row["nrs_pre"], row["nrs_post"]
    return "-" if pre is None else f"{pre} -> {'-' if post is None else post}"


def cmd_sessions(args: argparse.Namespace) -> int:
    from ketalog.services.patients import patient_by_mrn
    from ketalog.services.summary import session_rows

    store = context.open_db(args)
    try:
        ctx = context.login(args, store)
        patient_id = patient_by_mrn(ctx, args.patient).id if args.patient else None
        rows = session_rows(store, patient_id, now=args.clock.now())
    finally:
        store.close()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
    else:
        print(table([[str(r["id"]), str(r["mrn"]), str(r["patient"]), local(r["start"]),
                      str(r["series"]), str(r["status"]), f"{r['total_mg']:.1f}",
                      f"{r['mg_per_kg']:.2f}", _nrs(r)] for r in rows],
                    ["ID", "MRN", "Patient", "Start", "Series", "Status", "Total mg",
                     "mg/kg", "NRS"]))
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("patients", help="list patients")
    p.add_argument("--search", help="MRN, name or birth date prefix")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_patients)

    p = sub.add_parser("sessions", help="list sessions with dose totals and pain scores")
    p.add_argument("--patient", metavar="MRN")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sessions)
