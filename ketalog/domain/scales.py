"""Clinical scales used in a ketamine-infusion session: ranges, validation and
interpretation in one place, so every screen, report and export scores the same way.

Facts come from /work/shared/CLINICAL.md, section "Scales". Cut-offs that are not a
published guideline (CADSS-6 >= 8, adapted PADSS >= 7 of 8, NRS responder >= 30 %) are
labelled as clinic defaults in the texts a user sees.

Meaning of ``ScaleResult.flag`` per scale ("clinically notable / not yet ready"):

- nrs:     pain >= 7 (severe).
- moaas:   MOAA/S <= 2 (deep sedation: responds only to prodding, pain, or not at all).
- cadss6:  total >= 8 of 24 (ketalog clinic default, unverified).
- aldrete: NOT ready for discharge (total < 9 of 10).
- padss:   NOT fit for discharge (total < 7 of 8; clinic default, see PADSS note).
- phq9:    total >= 10 (moderate or worse).

This module is pure stdlib on purpose: it is imported by storage, UI and exports alike.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

__all__ = [
    "MOAAS_LEVELS",
    "SCALES",
    "ScaleError",
    "ScaleItem",
    "ScaleResult",
    "ScaleSpec",
    "aldrete_circulation_item",
    "aldrete_spo2_item",
    "is_nrs_responder",
    "nrs_percent_change",
    "phq9_remission",
    "phq9_response",
]


class ScaleError(ValueError):
    """A score that cannot be stored. Names field, value and limit so the nurse can fix
    the entry without guessing."""

    def __init__(self, field: str, value: object, limit: str, message: str | None = None) -> None:
        self.field = field
        self.value = value
        self.limit = limit
        super().__init__(message or f"{field}: value {value!r} is outside {limit}")


@dataclass(frozen=True)
class ScaleResult:
    """A validated score with its reading; ``flag`` is per scale (see module docstring)
    so lists and reports can highlight without knowing every scale."""

    scale: str
    total: int
    interpretation: str
    flag: bool


@dataclass(frozen=True)
class ScaleItem:
    """One item of a multi-item scale; ``name`` is the storage key, ``label`` is shown."""

    name: str
    label: str
    min: int
    max: int


def _is_int(value: object) -> bool:
    """Scores are whole points: bool is an int subclass but never a score, and a float
    such as 2.5 would silently be truncated or mis-summed."""
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class ScaleSpec:
    """Definition of one scale. ``score`` is the only way to turn raw entries into a
    ScaleResult, so validation cannot be skipped by one caller and not another."""

    code: str
    name: str
    short_name: str
    min_total: int
    max_total: int
    items: tuple[ScaleItem, ...]
    source: str
    flag_meaning: str
    interpreter: Callable[[int], tuple[str, bool]] = field(repr=False, compare=False)

    @property
    def limit(self) -> str:
        """The allowed total range as shown in messages, e.g. "0-10"."""
        return f"{self.min_total}-{self.max_total}"

    def score(
        self, value: int | None = None, items: Mapping[str, int] | None = None
    ) -> ScaleResult:
        """Validate and interpret. Pass exactly one of ``value`` (single-value scales,
        or the total of an item scale when only the total was recorded, e.g. a paper
        PHQ-9) or ``items`` (item scales only; every item required, none unknown).

        Raises ScaleError naming the field: the scale code for a value, or
        "<code>.<item>" for an item.
        """
        if (value is None) == (items is None):
            raise ScaleError(
                self.code,
                value if items is None else items,
                "either value or items",
                f"{self.short_name} [{self.code}]: pass exactly one of value or items "
                f"({'got both' if value is not None else 'got neither'})",
            )
        if items is not None:
            total = self._check_items(items)
        else:
            total = self._check_value(
                self.code, self.short_name, value, self.min_total, self.max_total
            )
        text, flag = self.interpreter(total)
        if self.code == "phq9" and items is not None and items.get("item_9", 0) > 0:
            # Thoughts of death or self-harm: a safety signal whatever the total.
            text, flag = f"{text}; item 9 positive: assess safety now", True
        return ScaleResult(scale=self.code, total=total, interpretation=text, flag=flag)

    def _check_items(self, items: Mapping[str, int]) -> int:
        if not self.items:
            raise ScaleError(
                self.code,
                items,
                "single value",
                f"{self.short_name} [{self.code}]: has no items; pass a single value {self.limit}",
            )
        known = {item.name for item in self.items}
        allowed = ", ".join(item.name for item in self.items)
        for key in items:
            if key not in known:
                raise ScaleError(
                    f"{self.code}.{key}",
                    items[key],
                    allowed,
                    f"{self.short_name} [{self.code}.{key}]: unknown item (value "
                    f"{items[key]!r}); allowed items: {allowed}",
                )
        total = 0
        for item in self.items:
            field_name = f"{self.code}.{item.name}"
            label = f"{self.short_name} {item.label}"
            if item.name not in items:
                limit = f"{item.min}-{item.max}"
                raise ScaleError(
                    field_name,
                    None,
                    limit,
                    f"{label} [{field_name}]: value missing, required in {limit}",
                )
            total += self._check_value(field_name, label, items[item.name], item.min, item.max)
        # Item ranges sum to the total range for every scale here; checked anyway so a
        # future mis-defined scale fails loudly instead of storing an impossible total.
        if not self.min_total <= total <= self.max_total:
            raise ScaleError(self.code, total, self.limit)
        return total

    @staticmethod
    def _check_value(field_name: str, label: str, value: object, low: int, high: int) -> int:
        limit = f"{low}-{high}"
        if value is None:
            raise ScaleError(
                field_name,
                value,
                limit,
                f"{label} [{field_name}]: value missing, required in {limit}",
            )
        if not _is_int(value):
            raise ScaleError(
                field_name,
                value,
                limit,
                f"{label} [{field_name}]: value {value!r} is not a whole number in {limit}",
            )
        assert isinstance(value, int)
        if not low <= value <= high:
            raise ScaleError(
                field_name,
                value,
                limit,
                f"{label} [{field_name}]: value {value} is outside {limit}",
            )
        return value


# --- interpretation -----------------------------------------------------------------

#: MOAA/S level -> description, wording as in CLINICAL.md.
MOAAS_LEVELS: Mapping[int, str] = {
    5: "responds readily to name spoken in normal tone",
    4: "lethargic response to name spoken in normal tone",
    3: "responds only after name is called loudly or repeatedly",
    2: "responds only after mild prodding or shaking",
    1: "responds only after painful trapezius squeeze",
    0: "no response",
}

#: CADSS-6 total at or above which dissociation is flagged. Ketalog clinic default,
#: unverified: no published cut-off was found for the 6-item short form.
CADSS6_FLAG_AT = 8

ALDRETE_READY_AT = 9

#: Adapted PADSS (4 items, 0-8) threshold. The full PADSS (5 items, 0-10) is fit at
#: >= 9 of 10, i.e. at most one point missing; keeping "at most one point missing" on
#: the 4-item adaptation gives >= 7 of 8. Clinic default derived proportionally, NOT a
#: guideline value.
PADSS_FIT_AT = 7

PHQ9_FLAG_AT = 10


def _interpret_nrs(total: int) -> tuple[str, bool]:
    if total == 0:
        return "none", False
    if total <= 3:
        return "mild", False
    if total <= 6:
        return "moderate", False
    return "severe", True


def _interpret_moaas(total: int) -> tuple[str, bool]:
    return MOAAS_LEVELS[total], total <= 2


def _interpret_cadss6(total: int) -> tuple[str, bool]:
    flag = total >= CADSS6_FLAG_AT
    note = (
        f"notable (>= {CADSS6_FLAG_AT}, clinic default, unverified)"
        if flag
        else f"below clinic flag {CADSS6_FLAG_AT} (clinic default, unverified)"
    )
    return f"total {total} of 24; {note}", flag


def _interpret_aldrete(total: int) -> tuple[str, bool]:
    if total >= ALDRETE_READY_AT:
        return f"ready for discharge ({total}/10, needs >= {ALDRETE_READY_AT})", False
    return f"not ready for discharge ({total}/10, needs >= {ALDRETE_READY_AT})", True


def _interpret_padss(total: int) -> tuple[str, bool]:
    basis = (
        f"clinic default >= {PADSS_FIT_AT} of 8, derived proportionally from >= 9 of 10 "
        "on the full PADSS; not a guideline"
    )
    if total >= PADSS_FIT_AT:
        return f"fit for discharge ({total}/8; {basis})", False
    return f"not fit for discharge ({total}/8; {basis})", True


def _interpret_phq9(total: int) -> tuple[str, bool]:
    if total <= 4:
        band = "minimal"
    elif total <= 9:
        band = "mild"
    elif total <= 14:
        band = "moderate"
    elif total <= 19:
        band = "moderately severe"
    else:
        band = "severe"
    return band, total >= PHQ9_FLAG_AT


def _items(code_items: list[tuple[str, str]], low: int, high: int) -> tuple[ScaleItem, ...]:
    return tuple(ScaleItem(name, label, low, high) for name, label in code_items)


SCALES: dict[str, ScaleSpec] = {
    "nrs": ScaleSpec(
        code="nrs",
        name="NRS pain (0-10)",
        short_name="NRS pain",
        min_total=0,
        max_total=10,
        items=(),
        source="NRS 0-10 integer (LOINC 72514-3); CLINICAL.md Scales",
        flag_meaning="severe pain (>= 7)",
        interpreter=_interpret_nrs,
    ),
    "moaas": ScaleSpec(
        code="moaas",
        name="MOAA/S sedation (0-5)",
        short_name="MOAA/S",
        min_total=0,
        max_total=5,
        items=(),
        source="MOAA/S 0-5, levels as in CLINICAL.md Scales",
        flag_meaning="deep sedation (<= 2)",
        interpreter=_interpret_moaas,
    ),
    "cadss6": ScaleSpec(
        code="cadss6",
        name="CADSS-6 dissociation (0-24)",
        short_name="CADSS-6",
        min_total=0,
        max_total=24,
        items=_items([(f"item_{n}", f"CADSS item {n}") for n in (1, 2, 6, 7, 15, 22)], 0, 4),
        source="Rodrigues 2021 (CADSS items 1, 2, 6, 7, 15, 22; item scoring unverified)",
        flag_meaning=f"total >= {CADSS6_FLAG_AT} (clinic default, unverified)",
        interpreter=_interpret_cadss6,
    ),
    "aldrete": ScaleSpec(
        code="aldrete",
        name="Modified Aldrete (0-10)",
        short_name="Modified Aldrete",
        min_total=0,
        max_total=10,
        items=_items(
            [
                ("activity", "activity"),
                ("respiration", "respiration"),
                ("circulation", "circulation"),
                ("consciousness", "consciousness"),
                ("spo2", "SpO2"),
            ],
            0,
            2,
        ),
        source="Modified Aldrete score, >= 9 ready (CLINICAL.md Scales)",
        flag_meaning=f"not ready for discharge (< {ALDRETE_READY_AT})",
        interpreter=_interpret_aldrete,
    ),
    "padss": ScaleSpec(
        code="padss",
        name="PADSS adapted (0-8)",
        short_name="PADSS (adapted)",
        min_total=0,
        max_total=8,
        items=_items(
            [
                ("vital_signs", "vital signs"),
                ("activity", "activity"),
                ("nausea_vomiting", "nausea/vomiting"),
                ("pain", "pain"),
            ],
            0,
            2,
        ),
        source=(
            "PADSS without surgical bleeding item; full scale fit >= 9/10; "
            f">= {PADSS_FIT_AT}/8 is a clinic default, not a guideline"
        ),
        flag_meaning=f"not fit for discharge (< {PADSS_FIT_AT} of 8, clinic default)",
        interpreter=_interpret_padss,
    ),
    "phq9": ScaleSpec(
        code="phq9",
        name="PHQ-9 (0-27)",
        short_name="PHQ-9",
        min_total=0,
        max_total=27,
        items=_items(
            [
                ("item_1", "item 1 (little interest or pleasure)"),
                ("item_2", "item 2 (feeling down, depressed or hopeless)"),
                ("item_3", "item 3 (sleep)"),
                ("item_4", "item 4 (tired, little energy)"),
                ("item_5", "item 5 (appetite)"),
                ("item_6", "item 6 (feeling bad about yourself)"),
                ("item_7", "item 7 (concentration)"),
                ("item_8", "item 8 (slowed or restless)"),
                ("item_9", "item 9 (thoughts of death or self-harm)"),
            ],
            0,
            3,
        ),
        source="PHQ-9 0-27 (LOINC 44261-6); response = drop >= 50 % or score < 10",
        flag_meaning=f"moderate or worse (>= {PHQ9_FLAG_AT})",
        interpreter=_interpret_phq9,
    ),
}


# --- helpers ------------------------------------------------------------------------


def _check_number(field_name: str, value: object, low: float, high: float) -> float:
    """Measurements may be fractional but must be real numbers in a sane range; NaN
    would otherwise fall through every comparison into the lowest score."""
    limit = f"{low:g}-{high:g}"
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ScaleError(
            field_name,
            value,
            limit,
            f"{field_name}: value {value!r} is not a finite number in {limit}",
        )
    if not low <= value <= high:
        raise ScaleError(field_name, value, limit)
    return float(value)


def aldrete_circulation_item(sbp_now: float, sbp_baseline: float) -> int:
    """Aldrete circulation item from systolic BP versus the pre-infusion baseline.

    Deviation |now - baseline|: <= 20 mmHg -> 2; <= 50 -> 1; > 50 -> 0. CLINICAL.md says
    "within 20 = 2, 20-50 = 1, beyond 50 = 0"; exactly 20 counts as within (2) and exactly
    50 as 20-50 (1). Inputs must be finite, 40-300 mmHg (ketalog plausibility limits).
    """
    now = _check_number("sbp_now", sbp_now, 40, 300)
    base = _check_number("sbp_baseline", sbp_baseline, 40, 300)
    deviation = abs(now - base)
    if deviation <= 20:
        return 2
    if deviation <= 50:
        return 1
    return 0


def aldrete_spo2_item(spo2_pct: float, on_oxygen: bool) -> int:
    """Aldrete SpO2 item.

    CLINICAL.md: > 92 % on room air = 2; needs O2 to stay > 90 % = 1; < 90 % with O2 = 0.
    Its gaps (room air 90-92 %, exactly 90 %, < 90 % on room air) are resolved as:
    room air and > 92 -> 2; otherwise >= 90 (room air or O2) -> 1; otherwise 0. So 92 %
    on room air is 1, any value on O2 is at most 1, and < 90 % is 0 with or without O2.
    """
    spo2 = _check_number("spo2_pct", spo2_pct, 0, 100)
    if not isinstance(on_oxygen, bool):
        raise ScaleError(
            "on_oxygen",
            on_oxygen,
            "True or False",
            f"on_oxygen: value {on_oxygen!r} is not True or False",
        )
    if not on_oxygen and spo2 > 92:
        return 2
    if spo2 >= 90:
        return 1
    return 0


def _nrs(field_name: str, value: object) -> int:
    return ScaleSpec._check_value(field_name, f"NRS pain {field_name}", value, 0, 10)


def nrs_percent_change(pre: int, post: int) -> float | None:
    """Percent change of NRS pain, (post - pre) / pre * 100; negative means less pain.

    None when pre is 0: a change from no pain has no meaningful percentage.
    Computed as (post - pre) * 100 / pre so whole-percent results are exact.
    """
    before = _nrs("pre", pre)
    after = _nrs("post", post)
    if before == 0:
        return None
    return (after - before) * 100 / before


def is_nrs_responder(pre: int, post: int, threshold_pct: float = 30.0) -> bool | None:
    """True when pain fell by at least ``threshold_pct`` percent (default 30 %, a common
    definition, unverified for ketamine guidance). None when pre is 0 (undefined).

    Compared in integers-times-100 so exactly 30 % (10 -> 7) counts as a response
    instead of being lost to float rounding.
    """
    before = _nrs("pre", pre)
    after = _nrs("post", post)
    threshold = _check_number("threshold_pct", threshold_pct, 0, 100)
    if before == 0:
        return None
    return (before - after) * 100 >= threshold * before


PHQ9_REMISSION_BELOW = 5  # remission: a total below 5 (minimal band, Kroenke 2001)
PHQ9_RULE_SOURCE = ("CLINICAL.md PHQ-9 (corrected 2026-12-06): response = a drop of at least "
                    "50 % from the first PHQ-9 of the current series; remission = below 5")


def phq9_response(baseline: int, current: int) -> bool:
    """PHQ-9 response per CLINICAL.md: a drop of at least 50 % from the baseline (the first
    PHQ-9 of the current series). A score that stayed or rose is never a response; a
    baseline of 0 cannot drop. Checked as 2 * (baseline - current) >= baseline (integers).
    """
    spec = SCALES["phq9"]
    base = ScaleSpec._check_value(
        "baseline", "PHQ-9 baseline", baseline, spec.min_total, spec.max_total
    )
    now = ScaleSpec._check_value(
        "current", "PHQ-9 current", current, spec.min_total, spec.max_total
    )
    return now < base and 2 * (base - now) >= base


def phq9_remission(current: int) -> bool:
    """PHQ-9 remission per CLINICAL.md: the latest total below 5, reported apart from
    response."""
    spec = SCALES["phq9"]
    now = ScaleSpec._check_value("current", "PHQ-9 current", current, spec.min_total,
                                 spec.max_total)
    return now < PHQ9_REMISSION_BELOW
