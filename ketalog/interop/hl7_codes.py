"""The monitor feed's code map: data, not code. resources/hl7/codes.csv holds every OBX-3
identifier ketalog knows (LOINC, IEEE 11073 numeric and reference-id forms, vendor local
codes), each row with its source; a clinic adds its own rows (clinic settings, audited)
and they take precedence. "-" as the vital marks a code that is known and deliberately
not recorded, so it is not counted as unknown."""

from __future__ import annotations

import csv
import io
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

MATCHES = ("LN", "MDC", "TEXT")
VITALS = ("sbp_mmhg", "dbp_mmhg", "map_mmhg", "hr_bpm", "spo2_pct", "rr_per_min",
          "etco2_mmhg", "temp_c")
NOT_RECORDED = "-"


@dataclass(frozen=True)
class CodeRow:
    match: str  # LN, MDC or TEXT
    key: str
    vital: str  # a ketalog vital, or "-" (known, not recorded)
    priority: int = 0
    source: str = ""


@dataclass(frozen=True)
class VitalCode:
    field: str
    priority: int = 0  # lower wins when two codes give the same vital at the same time
    source: str = ""


def text_key(text: str) -> str:
    """Letters and digits only, upper case: 'NIBP SYS', 'nibp-sys' and 'NIBPSYS' agree."""
    return re.sub(r"[^A-Z0-9]", "", text.upper())


def row_problem(row: CodeRow) -> str:
    """Why a row cannot be used ('' when it can)."""
    if row.match not in MATCHES:
        return f"match must be one of {', '.join(MATCHES)}"
    if not row.key.strip() or (row.match == "TEXT" and not text_key(row.key)):
        return "the code is empty"
    if row.vital not in (*VITALS, NOT_RECORDED):
        return f"vital must be one of {', '.join(VITALS)} or - (not recorded)"
    if not 0 <= row.priority <= 9:
        return "priority must be 0-9"
    if not row.source.strip():
        return "give the source of the row (manual, conformance statement...)"
    return ""


def parse_rows(text: str) -> list[CodeRow]:
    """The CSV rows (comment lines start with #); a bad row raises ValueError naming it."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    rows = []
    for n, record in enumerate(csv.DictReader(io.StringIO("\n".join(lines))), start=2):
        row = CodeRow(record["match"].strip().upper(), record["key"].strip(),
                      record["vital"].strip(), int(record["priority"] or 0),
                      record["source"].strip())
        problem = row_problem(row)
        if problem:
            raise ValueError(f"code map row {n} ({row.key}): {problem}")
        rows.append(row)
    return rows


def _resource() -> Path:
    base = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parents[2]))
    return base / "resources" / "hl7" / "codes.csv"


@lru_cache(maxsize=1)
def builtin_rows() -> tuple[CodeRow, ...]:
    return tuple(parse_rows(_resource().read_text(encoding="utf-8")))


class CodeMap:
    """Lookup of OBX-3 (identifier, text, coding system) in the rows."""

    def __init__(self, rows: Iterable[CodeRow]) -> None:
        self._ln: dict[str, VitalCode | None] = {}
        self._mdc: dict[str, VitalCode | None] = {}
        self._text: dict[str, VitalCode | None] = {}
        for row in rows:  # later rows (the clinic's) replace earlier ones
            code = None if row.vital == NOT_RECORDED else VitalCode(row.vital, row.priority,
                                                                      row.source)
            if row.match == "LN":
                self._ln[row.key] = code
            elif row.match == "MDC":
                self._mdc[row.key.upper()] = code
            else:
                self._text[text_key(row.key)] = code

    def identify(self, identifier: str, text: str, system: str) -> tuple[bool, VitalCode | None]:
        """(known, vital): known False for a code in no row; vital None when the code is
        not a vital ketalog records."""
        ident, label, coding = identifier.strip(), text.strip(), system.strip().upper()
        if coding in ("LN", "LOINC") and ident in self._ln:
            return True, self._ln[ident]
        for candidate in (ident, label):
            if candidate.upper() in self._mdc:
                return True, self._mdc[candidate.upper()]
        if ident in self._ln:
            return True, self._ln[ident]
        for candidate in (ident, label):
            key = text_key(candidate)
            if key and key in self._text:
                return True, self._text[key]
        if ident.upper().startswith("MDC_DEV_") or label.upper().startswith("MDC_DEV_"):
            return True, None  # the device hierarchy rows of IEEE 11073 containment
        return False, None


@lru_cache(maxsize=1)
def _builtin_map() -> CodeMap:
    return CodeMap(builtin_rows())


def code_map(clinic_rows: Iterable[CodeRow] = ()) -> CodeMap:
    """The built-in map, with the clinic's rows (if any) taking precedence."""
    extra = list(clinic_rows)
    return CodeMap([*builtin_rows(), *extra]) if extra else _builtin_map()


def rows_from_setting(value: object) -> list[CodeRow]:
    """The clinic's rows as kept in its settings (a damaged entry is skipped)."""
    rows = []
    for item in value if isinstance(value, list) else []:
        if not isinstance(item, Mapping):
            continue
        try:
            row = CodeRow(str(item["match"]).upper(), str(item["key"]), str(item["vital"]),
                          int(item.get("priority", 0)), str(item["source"]))
        except (KeyError, TypeError, ValueError):
            continue
        if not row_problem(row):
            rows.append(row)
    return rows
