"""Counts in sentences: '1 infusion', '2 infusions' (never '1 infusions')."""

from __future__ import annotations


def counted(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def hours_text(h: float | None) -> str:
    """A duration for a reader: '45 min' under an hour, '3 h 20 min' under two days,
    '3.5 d' beyond (relief lasts days). None -> '—'."""
    if h is None:
        return "—"
    minutes = round(h * 60)
    if minutes < 60:
        return f"{minutes} min"
    if h < 48:
        whole, rest = divmod(minutes, 60)
        return f"{whole} h {rest:02d} min" if rest else f"{whole} h"
    return f"{h / 24:.1f} d"
