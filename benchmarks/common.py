"""Shared helpers: every figure is printed with a baseline measured in the same run."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    baseline: float | None
    target: str
    ok: bool | None = None

    @property
    def ratio(self) -> float | None:
        return None if not self.baseline else self.value / self.baseline


def timings_ms(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def p99(xs: list[float]) -> float:
    ordered = sorted(xs)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]


def print_table(figures: list[Figure]) -> None:
    header = f"{'figure':52s} {'value':>10s} {'baseline':>10s} {'ratio':>7s}  target"
    print(header)
    print("-" * len(header) + "-" * 12)
    for f in figures:
        base = "-" if f.baseline is None else f"{f.baseline:10.3f}"
        ratio = "-" if f.ratio is None else f"{f.ratio:6.2f}x"
        mark = "" if f.ok is None else ("  ok" if f.ok else "  MISSED")
        print(f"{f.name:52s} {f.value:10.3f} {base:>10s} {ratio:>7s}  {f.target}{mark}"
              f"   [{f.unit}]")
