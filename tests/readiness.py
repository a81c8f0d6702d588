"""Acknowledgements for every discharge-readiness check, for tests whose subject is not
discharge (their sessions complete minutes after the infusion, unscored)."""

from __future__ import annotations

ACK_READINESS = {
    "observation": "test record: observation not the subject",
    "discharge_score": "test record: scored on paper",
    "escort": "test record: escort not the subject",
    "open_side_effects": "test record: reviewed",
}
