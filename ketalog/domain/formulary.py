"""The clinic's adjunct formulary: for each drug and route the usual unit and the usual
single-dose range, with its source. A dose outside the range, or in another unit than
the usual one (mcg for a mg drug, the reverse), raises a soft warning; a drug the
formulary does not list is allowed with a note (nothing to check it against)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ketalog.domain.allergies import csv_rows, normalise
from ketalog.domain.dosing import DoseWarning

UNITS: tuple[str, ...] = ("mg", "mcg", "g", "mL", "units")
RANGE_CODE = "formulary_range"
UNIT_CODE = "formulary_unit"


@dataclass(frozen=True)
class FormularyEntry:
    drug: str
    drug_class: str
    route: str
    unit: str
    dose_min: float | None
    dose_max: float | None
    source: str
    id: int | None = None
    uuid: str = ""
    retired: bool = False

    @property
    def range_text(self) -> str:
        if self.dose_min is not None and self.dose_max is not None:
            return f"{self.dose_min:g}-{self.dose_max:g} {self.unit}"
        if self.dose_max is not None:
            return f"up to {self.dose_max:g} {self.unit}"
        if self.dose_min is not None:
            return f"from {self.dose_min:g} {self.unit}"
        return f"in {self.unit}"


def parse_csv(text: str) -> list[FormularyEntry]:
    def number(value: str) -> float | None:
        return float(value) if value.strip() else None
    return [FormularyEntry(r["drug"].strip(), r["class"].strip(), r["route"].strip(),
                           r["unit"].strip(), number(r["dose_min"]), number(r["dose_max"]),
                           r["source"].strip()) for r in csv_rows(text)]


@dataclass(frozen=True)
class FormularyCheck:
    warnings: tuple[DoseWarning, ...]
    note: str  # '' when the drug and route are listed

    @property
    def listed(self) -> bool:
        return not self.note


def _base(drug: str) -> str:
    words = normalise(drug).split()
    return words[0] if words else ""


def check_adjunct(drug: str, dose: float, unit: str, route: str,
                  entries: Iterable[FormularyEntry]) -> FormularyCheck:
    name = normalise(drug)
    same_drug = [e for e in entries if not e.retired and normalise(e.drug) in (name, _base(drug))]
    if not same_drug:
        return FormularyCheck((), f"{drug.strip()} is not in the clinic formulary: "
                                  "no usual dose to check against.")
    by_route = [e for e in same_drug if e.route.lower() == route.strip().lower()]
    if not by_route:
        routes = ", ".join(sorted({e.route for e in same_drug}))
        return FormularyCheck((), f"The clinic formulary lists {drug.strip()} for {routes} "
                                  f"only, not {route.strip()}: no usual dose to check against.")
    entry = by_route[0]
    if unit.strip() != entry.unit:
        return FormularyCheck((DoseWarning(
            UNIT_CODE, f"{entry.drug} {entry.route} is usually given in {entry.unit}; "
            f"this dose is in {unit.strip()} ({dose:g} {unit.strip()}). Check the unit.",
            f"clinic formulary; {entry.source}"),), "")
    low, high = entry.dose_min, entry.dose_max
    if (low is not None and dose < low) or (high is not None and dose > high):
        return FormularyCheck((DoseWarning(
            RANGE_CODE, f"{entry.drug} {dose:g} {entry.unit} {entry.route} is outside the "
            f"usual dose {entry.range_text}.", f"clinic formulary; {entry.source}"),), "")
    return FormularyCheck((), "")
