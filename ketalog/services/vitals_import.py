"""Import a monitor's CSV export of vitals into a session: preview first (nothing is
written), then all rows in one audited transaction or none.

The rules are those of a manual entry (plausibility rejects, alerts flag, no future
times, no entries into a completed or signed session) plus two of its own: a reading
more than an hour before the session began is refused (it may be the previous
patient's), and so is a second reading at a time the session already has one (the same
file imported twice). Imported readings carry `import:<file name>` as their source."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta, tzinfo
from pathlib import Path

from ketalog.domain.clock import to_iso
from ketalog.domain.entities import VITAL_FIELDS, InfusionSession, Role, SessionStatus
from ketalog.domain.vitals import derive_map_mmhg
from ketalog.interop.csv_vitals import (
    MAX_ERRORS,
    LineError,
    ParsedReading,
    VitalsCsv,
    VitalsCsvError,
    decode,
    parse_mapping,
    parse_vitals_csv,
)
from ketalog.services.context import Context
from ketalog.services.errors import InvalidState, ServiceError, service_boundary
from ketalog.services.sessions import FUTURE_TOLERANCE, get_session
from ketalog.services.settings import alert_thresholds
from ketalog.store import vitals as vitals_store
from ketalog.store.store import Store
from ketalog.store.values import opt_float

IMPORTERS = (Role.NURSE, Role.ADMIN)
BEFORE_ARRIVAL = timedelta(minutes=60)
MAX_FILE_BYTES = 200 * 1024 * 1024


class ImportRejected(ServiceError):
    """Nothing was imported; `errors` are line-numbered (capped), `error_count` all."""

    def __init__(self, message: str, errors: tuple[LineError, ...] = (),
                 error_count: int = 0) -> None:
        self.errors = errors
        self.error_count = error_count
        lines = "".join(f"\n  {e}" for e in errors[:20])
        more = error_count - min(len(errors), 20)
        super().__init__(message + lines + (f"\n  ... and {more} more" if more > 0 else ""))


@dataclass(frozen=True)
class ImportPreview:
    session_id: int
    file_name: str
    sha256: str
    parsed: VitalsCsv
    errors: tuple[LineError, ...]
    error_count: int
    alerts: tuple[tuple[str, ...], ...]  # per reading, the alert fields

    @property
    def readings(self) -> tuple[ParsedReading, ...]:
        return self.parsed.readings

    @property
    def ok(self) -> bool:
        return self.error_count == 0 and bool(self.readings)

    @property
    def source(self) -> str:
        return f"import:{self.file_name}"


@dataclass(frozen=True)
class ImportResult:
    session_id: int
    imported: int
    skipped_empty: int
    source: str


def _importable(store: Store, session_id: int) -> InfusionSession:
    session = get_session(store, session_id)
    if session.status is SessionStatus.SIGNED:
        raise InvalidState("this session is signed and locked: vitals cannot be imported "
                           "into it; add an addendum instead")
    if session.status is SessionStatus.COMPLETED:
        raise InvalidState("this session is completed; reopen it (with a reason) to import "
                           "vitals")
    return session


def _key(at: str, values: Mapping[str, object]) -> tuple[object, ...]:
    return (at, *(opt_float(values.get(f)) for f in VITAL_FIELDS))


def _store_problems(ctx: Context, session: InfusionSession,
                    readings: tuple[ParsedReading, ...]) -> list[LineError]:
    """Checks that need the session: future, long before arrival, already recorded (the
    same time and values: importing a file twice; a different reading at the same time
    is allowed, as a repeat after an artifact is)."""
    now = ctx.clock.now()
    assert session.id is not None  # read from the store
    stored = vitals_store.recorded_values(ctx.store, session.id, VITAL_FIELDS)
    existing = {_key(str(row[0]), dict(zip(VITAL_FIELDS, row[2:], strict=True))): str(row[1])
                for row in stored}
    began = session.arrival_at or session.infusion_start_at
    problems: list[LineError] = []
    in_file: dict[tuple[object, ...], int] = {}
    for r in readings:
        key = _key(to_iso(r.at), _with_map(r.values)[0])
        local = r.at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        if r.at > now + FUTURE_TOLERANCE:
            problems.append(LineError(r.line, f"{local} is in the future"))
        elif began is not None and r.at < began - BEFORE_ARRIVAL:
            problems.append(LineError(
                r.line, f"{local} is more than {BEFORE_ARRIVAL.seconds // 60} min before this "
                        f"session began ({began.astimezone():%Y-%m-%d %H:%M}): another "
                        "patient's reading?"))
        elif key in existing:
            problems.append(LineError(r.line, f"this session already has this reading at "
                                              f"{local} (source {existing[key]})"))
        elif key in in_file:
            problems.append(LineError(r.line, f"the same reading (to the millisecond) as line "
                                              f"{in_file[key]}"))
        else:
            in_file[key] = r.line
    return problems


def _merge(parsed: VitalsCsv, extra: list[LineError]) -> tuple[tuple[LineError, ...], int]:
    merged = sorted([*parsed.errors, *extra], key=lambda e: e.line)
    return tuple(merged[:MAX_ERRORS]), parsed.error_count + len(extra)


@service_boundary
def preview_vitals_import(ctx: Context, session_id: int, data: bytes, file_name: str,
                          mapping: Mapping[str, str] | None = None, *,
                          time_format: str | None = None, tz: tzinfo | None = None,
                          progress: Callable[[int, int], None] | None = None) -> ImportPreview:
    """Parse and check everything; write nothing."""
    ctx.require(*IMPORTERS, action="import vitals")
    _importable(ctx.store, session_id)
    parsed = parse_file(data, file_name, mapping, time_format=time_format, tz=tz,
                        progress=progress)
    return check_vitals_import(ctx, session_id, parsed, file_name,
                               hashlib.sha256(data).hexdigest())


@service_boundary
def parse_file(data: bytes, file_name: str, mapping: Mapping[str, str] | None = None, *,
               time_format: str | None = None, tz: tzinfo | None = None,
               progress: Callable[[int, int], None] | None = None) -> VitalsCsv:
    """The store-free half of a preview: safe on a worker thread (the GUI parses big
    files there behind a progress bar)."""
    if len(data) > MAX_FILE_BYTES:
        raise ImportRejected(f"{Path(file_name).name} is larger than "
                             f"{MAX_FILE_BYTES // 2**20} MB")
    try:
        return parse_vitals_csv(decode(data), mapping, time_format=time_format, tz=tz,
                                progress=progress)
    except VitalsCsvError as exc:
        raise ImportRejected(f"{Path(file_name).name}: {exc}") from None


@service_boundary
def check_vitals_import(ctx: Context, session_id: int, parsed: VitalsCsv, file_name: str,
                        sha256: str) -> ImportPreview:
    """The store half of a preview: session state, times against the session, readings
    already recorded, alert flags. Writes nothing."""
    ctx.require(*IMPORTERS, action="import vitals")
    session = _importable(ctx.store, session_id)
    errors, count = _merge(parsed, _store_problems(ctx, session, parsed.readings))
    bands = alert_thresholds(ctx)
    alerts = tuple(tuple(a.field for a in bands.evaluate(_with_map(r.values)[0]))
                   for r in parsed.readings)
    return ImportPreview(session_id, Path(file_name).name, sha256, parsed, errors, count,
                         alerts)


def _with_map(values: Mapping[str, float]) -> tuple[dict[str, float], bool]:
    clean = dict(values)
    if "map_mmhg" not in clean and "sbp_mmhg" in clean and "dbp_mmhg" in clean:
        clean["map_mmhg"] = derive_map_mmhg(clean["sbp_mmhg"], clean["dbp_mmhg"])
        return clean, True
    return clean, False


@service_boundary
def commit_vitals_import(ctx: Context, preview: ImportPreview) -> ImportResult:
    """Store every previewed reading in one transaction; the session's state and the
    store checks are repeated inside it, so nothing changed since the preview slips in."""
    ctx.require(*IMPORTERS, action="import vitals")
    if not preview.ok:
        raise ImportRejected(f"{preview.file_name}: nothing imported, "
                             f"{preview.error_count} error(s)" if preview.error_count else
                             f"{preview.file_name}: no readings to import",
                             preview.errors, preview.error_count)
    bands = alert_thresholds(ctx)
    now = to_iso(ctx.clock.now())
    with ctx.store.write(ctx.actor) as w:
        session = _importable(ctx.store, preview.session_id)
        problems = _store_problems(ctx, session, preview.readings)
        if problems:
            raise ImportRejected(f"{preview.file_name}: nothing imported; the session changed "
                                 "since the preview", tuple(problems[:MAX_ERRORS]),
                                 len(problems))
        rows = []
        for r in preview.readings:
            values, derived = _with_map(r.values)
            rows.append({
                "session_id": session.id, "at": to_iso(r.at),
                **{f: values.get(f) for f in VITAL_FIELDS}, "map_derived": int(derived),
                "source": preview.source,
                "alerts": json.dumps([a.field for a in bands.evaluate(values)]),
                "late_entry": 0, "artifact": int(r.artifact),
                "artifact_reason": r.artifact_reason, "entered_at": now,
                "entered_by": ctx.user.id})
        count = vitals_store.insert_many(w, rows)
        w.event("import", "sessions", session.uuid, {
            "format": "csv", "kind": "vitals", "session_id": session.id,
            "file": preview.file_name, "sha256": preview.sha256, "rows": count,
            "skipped_empty": preview.parsed.skipped_empty, "columns": preview.parsed.columns,
            "source": preview.source})
    return ImportResult(preview.session_id, count, preview.parsed.skipped_empty,
                        preview.source)


@service_boundary
def column_map(pairs: Sequence[str]) -> dict[str, str]:
    """`--map ours=theirs` arguments as a mapping; a malformed pair is a ServiceError."""
    try:
        return parse_mapping(list(pairs))
    except VitalsCsvError as exc:
        raise ServiceError(str(exc)) from None


@service_boundary
def import_vitals_file(ctx: Context, session_id: int, path: Path,
                       mapping: Mapping[str, str] | None = None, *,
                       time_format: str | None = None,
                       tz: tzinfo | None = None) -> ImportResult:
    """The command-line path: preview, refuse on any error, else commit."""
    ctx.require(*IMPORTERS, action="import vitals")
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ServiceError(f"cannot read {path}: {exc.strerror or exc}") from exc
    preview = preview_vitals_import(ctx, session_id, data, Path(path).name, mapping,
                                    time_format=time_format, tz=tz)
    return commit_vitals_import(ctx, preview)
