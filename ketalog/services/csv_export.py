"""CSV export of all a patient's sessions: one file per kind (interop.csv_export), each
written whole (temporary file, rename) and the export audited with the row counts and
each file's SHA-256."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path

from ketalog.interop.csv_export import build_tables, to_csv_text
from ketalog.services.context import Context
from ketalog.services.errors import ServiceError, service_boundary
from ketalog.services.exports import CLINICAL_READERS, write_audited
from ketalog.services.patients import get_patient
from ketalog.services.record import load_record
from ketalog.store import sessions as sessions_store


@dataclass(frozen=True)
class CsvExport:
    folder: Path
    rows: dict[str, int]  # kind -> data rows (header not counted)

    def path(self, kind: str) -> Path:
        return self.folder / f"{kind}.csv"


@service_boundary
def export_patient_csv(ctx: Context, patient_id: int, folder: Path,
                       tz: tzinfo | None = None) -> CsvExport:
    """tz None writes times in this computer's zone (with their offset)."""
    ctx.require(*CLINICAL_READERS, action="export patient records")
    patient = get_patient(ctx, patient_id)
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ServiceError(f"cannot create {folder}: {exc.strerror or exc}") from exc
    ids = [s.session_id for s in sessions_store.listing(ctx.store, patient_id)]
    records = [load_record(ctx, i) for i in ids]
    files: dict[str, dict[str, object]] = {}
    rows: dict[str, int] = {}
    contents: dict[Path, bytes] = {}
    for kind, table in build_tables(records, tz, ctx.clock.now()).items():
        data = to_csv_text(table).encode("utf-8")
        contents[folder / f"{kind}.csv"] = data
        rows[kind] = len(table[1])
        files[f"{kind}.csv"] = {"rows": len(table[1]), "bytes": len(data),
                                "sha256": hashlib.sha256(data).hexdigest()}
    write_audited(ctx, contents, lambda w: w.event("export", "patients", patient.uuid, {
        "format": "csv", "kind": "patient", "patient_mrn": patient.mrn, "sessions": ids,
        "folder": str(folder.resolve()), "files": files}))
    return CsvExport(folder, rows)
