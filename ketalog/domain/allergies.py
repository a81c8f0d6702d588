"""Allergies as entries (substance, reaction, severity) and the cross-check of a
medication against them, by name and by drug class.

The class table is data (resources/clinical/drug_classes.csv, each row with its source);
this module only reads text handed to it, so it stays pure. A warning says what the
allergy entry says and what the table says, nothing more: it does not claim
cross-reactivity, only that the drug is the substance or shares its class."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ketalog.domain.dosing import DoseWarning

SEVERITIES: tuple[str, ...] = ("unknown", "mild", "moderate", "severe")
ALLERGY_CODE = "allergy"


@dataclass(frozen=True)
class Allergy:
    substance: str
    reaction: str = ""
    severity: str = "unknown"
    id: int | None = None
    uuid: str = ""

    @property
    def text(self) -> str:
        """'morphine (itching), severe' as the nurse would write it."""
        out = self.substance
        if self.reaction:
            out += f" ({self.reaction})"
        if self.severity != "unknown":
            out += f", {self.severity}"
        return out


def _split_outside_parentheses(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]" and depth:
            depth -= 1
        if ch in ";,\n" and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


_NONE_WORDS = {"nkda", "none", "no known allergies", "no known drug allergies", "nil", "-"}
_ENTRY = re.compile(r"^(?P<substance>[^()\[\]]+?)\s*(?:[(\[](?P<reaction>.*)[)\]])?\s*$")


def parse_free_text(text: str) -> list[Allergy]:
    """'penicillin (rash); morphine (itching)' -> two entries. 'NKDA' and empty -> none.
    A piece that does not read as 'substance (reaction)' is kept whole as the substance,
    so nothing typed is lost."""
    out: list[Allergy] = []
    for piece in _split_outside_parentheses(text):
        if piece.lower().rstrip(".") in _NONE_WORDS:
            continue
        m = _ENTRY.match(piece)
        if m is None:
            out.append(Allergy(piece))
            continue
        out.append(Allergy(m["substance"].strip(), (m["reaction"] or "").strip()))
    return out


def merged(structured: Sequence[Allergy], free_text: str) -> list[Allergy]:
    """The structured entries, plus any substance of the free text not yet among them
    (a later free-text edit is never ignored by the cross-check)."""
    known = {normalise(a.substance) for a in structured}
    extra = [a for a in parse_free_text(free_text) if normalise(a.substance) not in known]
    return [*structured, *extra]


def normalise(name: str) -> str:
    return " ".join(name.lower().replace("_", " ").split())


@dataclass(frozen=True)
class ClassMembership:
    drug: str
    drug_class: str
    atc: str
    source: str


@dataclass(frozen=True)
class DrugClassTable:
    memberships: tuple[ClassMembership, ...]
    class_names: dict[str, str] = field(default_factory=dict)  # word -> class

    @classmethod
    def from_csv(cls, classes_text: str, names_text: str = "") -> DrugClassTable:
        rows = csv_rows(classes_text)
        memberships = tuple(ClassMembership(normalise(r["drug"]), r["class"].strip(),
                                            r["atc"].strip(), r["source"].strip())
                            for r in rows if r.get("drug", "").strip())
        names = {normalise(r["name"]): r["class"].strip() for r in csv_rows(names_text)
                 if r.get("name", "").strip()}
        for m in memberships:
            names.setdefault(normalise(m.drug_class), m.drug_class)
        return cls(memberships, names)

    def classes_of(self, drug: str) -> list[ClassMembership]:
        key = normalise(drug)
        return [m for m in self.memberships if m.drug == key]

    def class_named(self, word: str) -> str | None:
        return self.class_names.get(normalise(word))

    @property
    def class_list(self) -> list[str]:
        return sorted({m.drug_class for m in self.memberships})


def csv_rows(text: str) -> list[dict[str, str]]:
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(io.StringIO("\n".join(lines))))


def _base_name(drug: str) -> str:
    """'Morphine sulfate 2 mg/mL' -> 'morphine': the first word names the substance."""
    words = normalise(drug).split()
    return words[0] if words else ""


def allergy_warnings(drug: str, allergies: Iterable[Allergy],
                     table: DrugClassTable) -> list[DoseWarning]:
    """One warning per allergy the drug matches: same substance, the allergy names the
    drug's class, or the allergen and the drug share a class in the table."""
    name = normalise(drug)
    if not name:
        return []
    shown = drug.strip()
    shown = shown[:1].upper() + shown[1:]  # it starts a sentence
    drug_keys = {name, _base_name(drug)}
    drug_classes = {m.drug_class: m for k in drug_keys for m in table.classes_of(k)}
    warnings: list[DoseWarning] = []
    for allergy in allergies:
        allergen = normalise(allergy.substance)
        if not allergen:
            continue
        head = f"Allergy recorded: {allergy.text}."
        if allergen in drug_keys or _base_name(allergy.substance) in drug_keys:
            warnings.append(DoseWarning(ALLERGY_CODE, f"{head} {shown} is that substance.",
                                        "patient's allergy list"))
            continue
        named_class = table.class_named(allergen)
        if named_class is not None and named_class in drug_classes:
            m = drug_classes[named_class]
            warnings.append(DoseWarning(
                ALLERGY_CODE, f"{head} {shown} is one of the {named_class} "
                f"(ATC {m.atc}).", f"patient's allergy list; {m.source}"))
            continue
        shared = [(c, drug_classes[c.drug_class]) for c in table.classes_of(allergen)
                  if c.drug_class in drug_classes]
        shared += [(c, drug_classes[c.drug_class])
                   for c in table.classes_of(_base_name(allergy.substance))
                   if c.drug_class in drug_classes and all(c != s for s, _ in shared)]
        if shared:
            allergen_m, drug_m = shared[0]
            warnings.append(DoseWarning(
                ALLERGY_CODE, f"{head} {shown} and {allergy.substance} are both "
                f"{allergen_m.drug_class} (ATC {drug_m.atc} and {allergen_m.atc}).",
                f"patient's allergy list; {drug_m.source}"))
    return warnings
