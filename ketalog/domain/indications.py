"""Indications as a coded list the clinic keeps: each has a category (pain, mood, other)
that selects the guideline rules (domain.dosing) and may name a default protocol. Free
text stays on the patient as a note; `match_indication` maps it case-insensitively, the
same way the migration mapped existing records (unmapped text is listed for the admin)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class Category(StrEnum):
    PAIN = "pain"
    MOOD = "mood"
    OTHER = "other"


@dataclass(frozen=True)
class Indication:
    id: int | None
    name: str
    category: Category
    default_protocol_id: int | None = None
    retired: bool = False

    @property
    def rule_key(self) -> str:
        """What domain.dosing judges by: "crps", "pain", "mood" or "other"."""
        if self.category is Category.PAIN:
            return "crps" if self.name.strip().lower() == "crps" else "pain"
        return self.category.value


#: The list a new clinic starts with (the admin edits it): name, category.
SEED_INDICATIONS: tuple[tuple[str, Category], ...] = (
    ("CRPS", Category.PAIN), ("neuropathic pain", Category.PAIN),
    ("fibromyalgia", Category.PAIN), ("chronic pain", Category.PAIN),
    ("depression", Category.MOOD), ("treatment-resistant depression", Category.MOOD),
    ("major depressive disorder", Category.MOOD), ("bipolar depression", Category.MOOD),
    ("PTSD", Category.MOOD), ("anxiety", Category.MOOD),
)

#: Other ways clinics write the same indication (lower case) -> the seeded name.
ALIASES: dict[str, str] = {
    "complex regional pain syndrome": "CRPS", "trd": "treatment-resistant depression",
    "treatment resistant depression": "treatment-resistant depression",
    "mdd": "major depressive disorder", "major depression": "major depressive disorder",
    "bipolar": "bipolar depression", "post-traumatic stress disorder": "PTSD",
    "post traumatic stress disorder": "PTSD", "neuropathic": "neuropathic pain",
    "neuropathy": "neuropathic pain", "generalized anxiety disorder": "anxiety",
}


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)*", text.lower()))


def match_indication(text: str, indications: Sequence[Indication]) -> Indication | None:
    """The coded indication free text means, case-insensitively: the name itself, a
    known alias, or the longest name or alias found as whole words in the text
    ("TRD, 2nd episode" -> treatment-resistant depression; "chronic pain" is never CRPS).
    None when nothing matches (the admin maps it)."""
    words = _words(text)
    if not words:
        return None
    by_name = {_words(i.name): i for i in indications if not i.retired}
    names = {**{_words(a): _words(n) for a, n in ALIASES.items()}, **{k: k for k in by_name}}
    if words in names and names[words] in by_name:
        return by_name[names[words]]
    padded = f" {words} "
    found = [(len(key), target) for key, target in names.items()
             if target in by_name and f" {key} " in padded]
    return by_name[max(found)[1]] if found else None
