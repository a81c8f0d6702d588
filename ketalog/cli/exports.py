"""`ketalog export pdf|course|fhir|csv` and `import vitals`: records out of and into the
database. The services do the work, check the roles and write the audit."""

from __future__ import annotations

import argparse
from pathlib import Path

from ketalog.cli import context
from ketalog.cli.output import day


def cmd_export_pdf(args: argparse.Namespace) -> int:
    from ketalog.services.exports import export_session_pdf

    store = context.open_db(args)
    try:
        ctx = context.login(args, store)
        out = export_session_pdf(ctx, args.session, Path(args.out).expanduser())
    finally:
        store.close()
    print(f"wrote {out}")
    return 0


def cmd_export_course(args: argparse.Namespace) -> int:
    from ketalog.services.exports import export_course_pdf
    from ketalog.services.patients import patient_by_mrn

    since, until = day(args.since, "--from"), day(args.until, "--to")
    store = context.open_db(args)
    try:
        ctx = context.login(args, store)
        patient = patient_by_mrn(ctx, args.patient)
        out = export_course_pdf(ctx, patient.id or 0, Path(args.out).expanduser(), since,
                                until)
    finally:
        store.close()
    print(f"wrote {out}")
    return 0


def cmd_export_fhir(args: argparse.Namespace) -> int:
    from ketalog.services.fhir_export import export_patient_fhir, export_session_fhir
    from ketalog.services.patients import patient_by_mrn

    store = context.open_db(args)
    try:
        ctx = context.login(args, store)
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
    from ketalog.services.csv_export import export_patient_csv
    from ketalog.services.patients import patient_by_mrn

    store = context.open_db(args)
    try:
        ctx = context.login(args, store)
        result = export_patient_csv(ctx, patient_by_mrn(ctx, args.patient).id or 0,
                                    Path(args.out).expanduser())
    finally:
        store.close()
    print(f"wrote {len(result.rows)} files to {result.folder}:")
    for kind, rows in result.rows.items():
        print(f"  {kind}.csv  {rows} rows")
    return 0


def cmd_import_vitals(args: argparse.Namespace) -> int:
    from ketalog.services.vitals_import import column_map, import_vitals_file

    mapping = column_map(args.map or [])
    store = context.open_db(args)
    try:
        ctx = context.login(args, store)
        result = import_vitals_file(ctx, args.session, Path(args.file).expanduser(), mapping,
                                    time_format=args.time_format)
    finally:
        store.close()
    skipped = f"; {result.skipped_empty} rows without values skipped" \
        if result.skipped_empty else ""
    print(f"imported {result.imported} readings into session {result.session_id} "
          f"(source {result.source}){skipped}")
    return 0


def add_export_parsers(export_sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
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


def add_import_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
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
