"""`ketalog export fhir|csv` and `ketalog import vitals`: the interop commands, kept out
of cli.py so the command table there stays short. Services do the work and the audit."""

from __future__ import annotations

import argparse
from pathlib import Path


def cmd_export_fhir(args: argparse.Namespace) -> int:
    from ketalog.cli import _login, _open
    from ketalog.services.fhir_export import export_patient_fhir, export_session_fhir
    from ketalog.services.patients import patient_by_mrn

    store = _open(args)
    try:
        ctx = _login(args, store)
        out = Path(args.out).expanduser()
        if args.session is not None:
            result = export_session_fhir(ctx, args.session, out)
        else:
            result = export_patient_fhir(ctx, patient_by_mrn(ctx, args.patient).id or 0, out)
    finally:
        store.close()
    kinds = ", ".join(f"{n} {k}" for k, n in result.resources.items())
    print(f"wrote {result.path}: FHIR R4 Bundle, {result.sessions} session(s), "
          f"{result.total} resources ({kinds})")
    return 0


def cmd_export_csv(args: argparse.Namespace) -> int:
    from ketalog.cli import _login, _open
    from ketalog.services.csv_export import export_patient_csv
    from ketalog.services.patients import patient_by_mrn

    store = _open(args)
    try:
        ctx = _login(args, store)
        result = export_patient_csv(ctx, patient_by_mrn(ctx, args.patient).id or 0,
                                    Path(args.out).expanduser())
    finally:
        store.close()
    print(f"wrote {len(result.rows)} files to {result.folder}:")
    for kind, rows in result.rows.items():
        print(f"  {kind}.csv  {rows} rows")
    return 0


def cmd_import_vitals(args: argparse.Namespace) -> int:
    from ketalog.cli import _login, _open
    from ketalog.interop.csv_vitals import VitalsCsvError, parse_mapping
    from ketalog.services.errors import ServiceError
    from ketalog.services.vitals_import import import_vitals_file

    try:
        mapping = parse_mapping(args.map or [])
    except VitalsCsvError as exc:
        raise ServiceError(str(exc)) from None
    store = _open(args)
    try:
        ctx = _login(args, store)
        result = import_vitals_file(ctx, args.session, Path(args.file).expanduser(), mapping,
                                    time_format=args.time_format)
    finally:
        store.close()
    skipped = f"; {result.skipped_empty} rows without values skipped" \
        if result.skipped_empty else ""
    print(f"imported {result.imported} readings into session {result.session_id} "
          f"(source {result.source}){skipped}")
    return 0


def add_export_commands(export_sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = export_sub.add_parser("fhir", help="a FHIR R4 Bundle (JSON) of a session or a patient")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--session", type=int, help="session id (see `sessions`)")
    which.add_argument("--patient", metavar="MRN", help="all of this patient's sessions")
    p.add_argument("--out", required=True, help="JSON file to write")
    p.set_defaults(func=cmd_export_fhir)
    p = export_sub.add_parser("csv", help="a patient's records as CSV files, one per kind")
    p.add_argument("--patient", required=True, metavar="MRN")
    p.add_argument("--out", required=True, metavar="DIR", help="folder (created if missing)")
    p.set_defaults(func=cmd_export_csv)


def add_import_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    imp = sub.add_parser("import", help="bring records in (audited, all or nothing)")
    imp_sub = imp.add_subparsers(dest="what", required=True)
    p = imp_sub.add_parser("vitals", help="a monitor's CSV export of vitals into a session",
                           description="Columns are found by name (time, sbp_mmhg, dbp_mmhg, "
                           "map_mmhg, hr_bpm, spo2_pct, rr_per_min, etco2_mmhg, temp_c or "
                           "temp_f; see README); --map names the ones your monitor calls "
                           "differently. Nothing is stored unless every row is sound.")
    p.add_argument("file", help="the CSV file")
    p.add_argument("--session", type=int, required=True, help="session id (see `sessions`)")
    p.add_argument("--map", action="append", metavar="OURCOL=THEIRCOL",
                   help="e.g. --map hr_bpm=PR --map time=Timestamp (repeatable)")
    p.add_argument("--time-format", metavar="FMT",
                   help="strptime format of the time column, e.g. '%%d/%%m/%%Y %%H:%%M:%%S' "
                        "(default ISO-8601); times without an offset are local time")
    p.set_defaults(func=cmd_import_vitals)


__all__ = ["add_export_commands", "add_import_commands"]
