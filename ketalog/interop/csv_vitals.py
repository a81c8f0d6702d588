"""Parse a patient monitor's CSV export of vitals (pure: text in, readings and
line-numbered errors out; the service checks the session and stores all or nothing).

Columns are found by name (see COLUMNS and README "CSV export and import"); a mapping
{our column: their column} names the ones a monitor calls differently. Every row is
checked with the same plausibility rules as a manual entry. Only VitalsCsvError is
raised (for problems with the file as a whole); row problems are collected with their
line numbers, so the nurse sees all of them at once."""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo

from ketalog.domain.entities import VITAL_FIELDS
from ketalog.domain.errors import PlausibilityError
from ketalog.domain.plausibility import validate_vitals
from ketalog.interop.csv_cells import flag_word, restore

# Our column -> names recognised without a mapping (compared after normalising: lower
# case, every run of other characters as one "_").
COLUMNS: dict[str, tuple[str, ...]] = {
    "time": ("time", "at", "timestamp", "datetime", "date_time", "time_stamp"),
    "date": ("date",),
    "sbp_mmhg": ("sbp_mmhg", "sbp", "nibp_sys", "nibp_s", "systolic", "sys", "nibp_systolic"),
    "dbp_mmhg": ("dbp_mmhg", "dbp", "nibp_dia", "nibp_d", "diastolic", "dia",
                 "nibp_diastolic"),
    "map_mmhg": ("map_mmhg", "map", "nibp_mean", "nibp_m", "mean", "nibp_map"),
    "hr_bpm": ("hr_bpm", "hr", "heart_rate", "pulse", "pr", "pulse_rate"),
    "spo2_pct": ("spo2_pct", "spo2", "sp_o2", "spo2_percent"),
    "rr_per_min": ("rr_per_min", "rr", "resp", "resp_rate", "respiratory_rate", "awrr"),
    "etco2_mmhg": ("etco2_mmhg", "etco2", "et_co2", "co2_et"),
    "temp_c": ("temp_c", "temp", "temperature", "t1", "temp_celsius"),
    "temp_f": ("temp_f", "temp_fahrenheit"),
    "map_derived": ("map_derived",),
    "artifact": ("artifact",),
    "artifact_reason": ("artifact_reason",),
}
MISSING = {"", "-", "--", "---", "na", "n/a", "nan", "null", "none", "?"}
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
MAX_ERRORS = 200


class VitalsCsvError(ValueError):
    """The file as a whole cannot be read (no header, no time column, bad mapping...)."""


@dataclass(frozen=True)
class LineError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class ParsedReading:
    line: int
    at: datetime  # aware
    values: dict[str, float]  # canonical vital fields only
    artifact: bool = False
    artifact_reason: str = ""


@dataclass(frozen=True)
class VitalsCsv:
    readings: tuple[ParsedReading, ...]
    errors: tuple[LineError, ...]  # the first max_errors of them
    error_count: int
    columns: dict[str, str]  # our column -> their header
    ignored: tuple[str, ...]  # their headers we do not read
    skipped_empty: int = 0  # rows with a time but no value at all
    delimiter: str = ","

    @property
    def ok(self) -> bool:
        return self.error_count == 0 and bool(self.readings)


def normalise(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def decode(data: bytes) -> str:
    """UTF-16 when it has a byte-order mark or looks like it (Excel's "Unicode text"),
    UTF-8 (with or without BOM), else Windows-1252 as older monitor software writes."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise VitalsCsvError(f"the file says it is UTF-16 but is not: {exc}") from exc
    sample = data[:4000]
    if len(sample) >= 4 and sample[1::2].count(0) > len(sample) // 4:
        try:
            return data.decode("utf-16-le")
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise VitalsCsvError("the file is not text (neither UTF-8 nor Windows-1252)")


def parse_mapping(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """['hr_bpm=PR', 'time=Timestamp'] -> {'hr_bpm': 'PR', 'time': 'Timestamp'}."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        ours, sep, theirs = pair.partition("=")
        if not sep or not ours.strip() or not theirs.strip():
            raise VitalsCsvError(f"mapping {pair!r} must look like ourcol=theircol")
        mapping[ours.strip()] = theirs.strip()
    return mapping


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _resolve(header: list[str], mapping: Mapping[str, str]) -> dict[str, int]:
    unknown = sorted(set(mapping) - set(COLUMNS))
    if unknown:
        raise VitalsCsvError(f"unknown column(s) {', '.join(unknown)} in the mapping; ours are "
                             f"{', '.join(COLUMNS)}")
    stripped = [h.strip() for h in header]
    normal = [normalise(h) for h in header]
    found: dict[str, int] = {}
    for ours, theirs in mapping.items():
        matches = [i for i, h in enumerate(stripped) if h.lower() == theirs.lower()]
        matches = matches or [i for i, h in enumerate(normal) if h == normalise(theirs)]
        if not matches:
            raise VitalsCsvError(f"the mapping names column {theirs!r}, which is not in the "
                                 f"file's header ({', '.join(stripped)})")
        found[ours] = matches[0]
    taken = set(found.values())
    for ours, aliases in COLUMNS.items():
        if ours in found:
            continue
        for alias in aliases:
            hits = [i for i, h in enumerate(normal) if h == alias and i not in taken]
            if hits:
                found[ours] = hits[0]
                taken.add(hits[0])
                break
    if "time" not in found and "date" in found:
        found["time"] = found.pop("date")
    if "time" not in found:
        raise VitalsCsvError("no time column: name it 'time' (ISO-8601, e.g. "
                             "2026-11-24T09:05:00+01:00) or map it, e.g. --map time=Timestamp")
    if not set(found) & {*VITAL_FIELDS, "temp_f"}:
        raise VitalsCsvError("no vitals column recognised: map them, e.g. --map hr_bpm=PR "
                             "(ours: " + ", ".join([*VITAL_FIELDS, "temp_f"]) + ")")
    return found


def _number(text: str, decimal_comma: bool) -> float | None:
    value = text.strip()
    if value.lower() in MISSING:
        return None
    if decimal_comma and value.count(",") == 1 and "." not in value:
        value = value.replace(",", ".")
    if not _NUMBER.match(value):
        raise ValueError(f"{text.strip()!r} is not a number")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{text.strip()!r} is not a number")
    return number


def _flag(text: str) -> bool:
    value = flag_word(text)
    if value is None:
        raise ValueError(f"{text.strip()!r} is not a yes/no value (1/0, true/false, yes/no, "
                         "or a spreadsheet's TRUE/FALSE in its language)")
    return value


def parse_time(text: str, time_format: str | None, tz: tzinfo | None) -> datetime:
    """ISO-8601 by default, else the strptime format; a time without an offset is taken
    as the clinic's local time (tz, or this computer's zone when tz is None)."""
    value = text.strip()
    if not value:
        raise ValueError("the time is empty")
    try:
        if time_format:
            parsed = datetime.strptime(value, time_format)
        else:
            parsed = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith(("Z", "z"))
                                            else value)
    except ValueError:
        expected = f"the format {time_format!r}" if time_format else \
            "ISO-8601 such as 2026-11-24T09:05:00+01:00 (or give --time-format)"
        raise ValueError(f"time {value!r} does not match {expected}") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        try:
            parsed = parsed.replace(tzinfo=tz) if tz is not None else parsed.astimezone()
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"time {value!r} is out of range") from None
    return parsed


def parse_vitals_csv(text: str, mapping: Mapping[str, str] | None = None, *,
                     time_format: str | None = None, tz: tzinfo | None = None,
                     max_errors: int = MAX_ERRORS,
                     progress: Callable[[int, int], None] | None = None) -> VitalsCsv:
    """All rows parsed and checked; errors carry the file's line numbers (a header is
    line 1). `progress(line, total_lines)` is called every 2,000 lines."""
    if "\x00" in text:
        raise VitalsCsvError("the file contains NUL bytes: it is not a CSV text file")
    lines_total = text.count("\n") + 1
    first = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    if not first.strip():
        raise VitalsCsvError("the file is empty or its first line (the header) is blank")
    delimiter = _delimiter(first)
    reader = csv.reader(text.lstrip("\ufeff").splitlines(keepends=True), delimiter=delimiter)
    try:
        header = [restore(h) for h in next(reader)]
    except (csv.Error, StopIteration) as exc:
        raise VitalsCsvError(f"line 1: the header cannot be read ({exc})") from None
    columns = _resolve(header, mapping or {})
    decimal_comma = delimiter != ","
    errors: list[LineError] = []
    error_count = 0
    readings: list[ParsedReading] = []
    seen: dict[object, int] = {}

    def fail(line: int, message: str) -> None:
        nonlocal error_count
        error_count += 1
        if len(errors) < max_errors:
            errors.append(LineError(line, message))

    line = reader.line_num
    while True:
        start = line + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise VitalsCsvError(f"line {start}: {exc}") from None
        line = reader.line_num
        row = [restore(f) for f in row]  # ketalog's own formula-safe cells
        if progress is not None and start % 2000 == 0:
            progress(start, lines_total)
        if not row or all(not f.strip() for f in row):
            continue
        if len(row) > len(header) and any(f.strip() for f in row[len(header):]):
            fail(start, f"{len(row)} fields but the header has {len(header)}")
            continue
        if len(row) < len(header):
            fail(start, f"only {len(row)} fields; the header has {len(header)} "
                        "(a cut-off line?)")
            continue
        _parse_row(row, start, columns, decimal_comma, time_format, tz, fail, readings, seen)
    skipped = sum(1 for r in readings if not r.values)
    if progress is not None:
        progress(lines_total, lines_total)
    used = set(columns.values())
    return VitalsCsv(
        readings=tuple(r for r in readings if r.values), errors=tuple(errors),
        error_count=error_count, columns={k: header[i].strip() for k, i in columns.items()},
        ignored=tuple(h.strip() for i, h in enumerate(header) if i not in used),
        skipped_empty=skipped, delimiter=delimiter)


def _parse_row(row: list[str], line: int, columns: Mapping[str, int], decimal_comma: bool,
               time_format: str | None, tz: tzinfo | None, fail: Callable[[int, str], None],
               readings: list[ParsedReading], seen: dict[object, int]) -> None:
    problems: list[str] = []
    time_text = row[columns["time"]]
    if "date" in columns:
        time_text = f"{row[columns['date']].strip()} {time_text.strip()}"
    try:
        at: datetime | None = parse_time(time_text, time_format, tz)
    except ValueError as exc:
        problems.append(str(exc))
        at = None
    values: dict[str, float] = {}
    for name in (*VITAL_FIELDS, "temp_f"):
        if name not in columns:
            continue
        try:
            number = _number(row[columns[name]], decimal_comma)
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
            continue
        if number is None:
            continue
        if name == "temp_f":
            if "temp_c" in values:
                continue
            name, number = "temp_c", round((number - 32) * 5 / 9, 1)
        values[name] = number
    flags: dict[str, bool] = {}
    for name in ("map_derived", "artifact"):
        if name in columns:
            try:
                flags[name] = _flag(row[columns[name]])
            except ValueError as exc:
                problems.append(f"{name}: {exc}")
    reason = row[columns["artifact_reason"]].strip() if "artifact_reason" in columns else ""
    if flags.get("artifact") and not reason:
        problems.append("an artifact needs an artifact_reason")
    if flags.get("map_derived"):
        values.pop("map_mmhg", None)  # derived again from SBP and DBP on import
    if values and not problems:
        try:
            validate_vitals(values)
        except PlausibilityError as exc:
            problems += [p.message for p in exc.problems]
    if at is not None and not problems and values:
        # Two readings may share a time (a repeat after an artifact); the same time with
        # the same values is the same reading twice.
        key = (at, tuple(sorted(values.items())))
        earlier = seen.get(key)
        if earlier is not None:
            problems.append(f"the same reading (time and values) as line {earlier}")
        else:
            seen[key] = line
    if problems:
        fail(line, "; ".join(problems))
        return
    readings.append(ParsedReading(line, at, values, flags.get("artifact", False),  # type: ignore[arg-type]
                                  reason))
