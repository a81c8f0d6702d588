"""Discharge readiness, checked when the nurse completes a session: observation time since
the last ketamine dose, a passing discharge score, an escort, and side effects still open.
A failed check is a warning the nurse acknowledges with a reason (recorded and printed),
never a silent pass. An impossible discharge time (before the infusion ended or the last
dose was given) is not a warning: it is refused (`impossible_discharge`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ketalog.domain import dosing
from ketalog.domain.entities import Score, SideEffect
from ketalog.domain.errors import PlausibilityError

KETALAR_LABEL = "Ketalar label (observe at least 60 min after the last dose; discharge with " \
                "a responsible adult)"
ALDRETE_READY_AT = 9  # modified Aldrete >= 9 of 10 (CLINICAL.md Scales)
DEFAULT_OBSERVATION_MIN = 60


@dataclass(frozen=True)
class ReadinessCheck:
    code: str
    passed: bool
    message: str
    source: str

    def as_text(self) -> str:
        return f"{self.message} [{self.source}]"


@dataclass(frozen=True)
class ReadinessRules:
    observation_min: int = DEFAULT_OBSERVATION_MIN  # clinic setting
    padss_fit_at: int = 7  # clinic setting (adapted PADSS, 0-8)


def impossible_discharge(discharge_at: datetime, infusion_end: datetime | None,
                         last_dose: datetime | None, arrival: datetime | None) -> None:
    """Refuse a discharge time before arrival, before the infusion ended or before the
    last dose (a bolus after Stop included)."""
    for limit, what in ((arrival, "the patient arrived"), (infusion_end, "the infusion ended"),
                        (last_dose, "the last ketamine dose")):
        if limit is not None and discharge_at < limit:
            raise PlausibilityError.single(
                "discharge_at", discharge_at.isoformat(), f">= {limit.isoformat()}",
                f"Discharge time cannot be before {what} "
                f"({limit.astimezone():%Y-%m-%d %H:%M})")


def readiness_checks(*, doses: Sequence[dosing.DoseLike], scores: Sequence[Score],
                     side_effects: Sequence[SideEffect], escort: str, discharge_at: datetime,
                     rules: ReadinessRules) -> list[ReadinessCheck]:
    """Every check, passed or not, in the order the Complete dialog shows them."""
    checks: list[ReadinessCheck] = []
    last = dosing.last_dose_at(doses)
    if last is None:
        checks.append(ReadinessCheck("observation", True, "No ketamine given", KETALAR_LABEL))
    else:
        observed = int((discharge_at - last) / timedelta(minutes=1))
        ok = observed >= rules.observation_min
        checks.append(ReadinessCheck(
            "observation", ok,
            f"Observed {observed} min since the last ketamine dose "
            f"({'at least' if ok else 'less than'} the clinic's {rules.observation_min} min)",
            f"{KETALAR_LABEL}; clinic setting {rules.observation_min} min"))
    counted = [s for s in scores if not s.struck_reason and s.scale in ("aldrete", "padss")
               and s.at <= discharge_at]
    latest = max(counted, key=lambda s: s.at, default=None)
    score_source = (f"modified Aldrete >= {ALDRETE_READY_AT} (CLINICAL.md); adapted PADSS "
                    f">= {rules.padss_fit_at} of 8 (clinic setting)")
    if latest is None:
        checks.append(ReadinessCheck("discharge_score", False,
                                     "No modified Aldrete or PADSS score recorded",
                                     score_source))
    else:
        limit = ALDRETE_READY_AT if latest.scale == "aldrete" else rules.padss_fit_at
        name = "Modified Aldrete" if latest.scale == "aldrete" else "PADSS"
        ok = latest.value >= limit
        checks.append(ReadinessCheck(
            "discharge_score", ok,
            f"{name} {latest.value} at {latest.at.astimezone():%H:%M} "
            f"({'passes' if ok else 'below'} {limit})", score_source))
    has_escort = bool(escort.strip())
    checks.append(ReadinessCheck(
        "escort", has_escort,
        f"Escort: {escort.strip()}" if has_escort else "No escort (responsible adult) recorded",
        KETALAR_LABEL))
    open_effects = [e for e in side_effects if not e.struck_reason and
                    (e.resolved_at is None or e.resolved_at > discharge_at)]
    checks.append(ReadinessCheck(
        "open_side_effects", not open_effects,
        "No side effect still open" if not open_effects else
        "Side effects still open: " + ", ".join(
            f"{e.kind} ({e.severity.value}, since {e.onset_at.astimezone():%H:%M})"
            for e in open_effects),
        "ketalog: side effects recorded and not resolved"))
    return checks
