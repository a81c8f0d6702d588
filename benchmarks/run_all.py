"""`make bench`: run every benchmark and print one table of figures, baselines, ratios."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import Figure, print_table  # noqa: E402


def main() -> int:
    figures: list[Figure] = []
    names = sorted(m.name for m in pkgutil.iter_modules([str(ROOT / "benchmarks")])
                   if m.name.startswith("bench_"))
    for name in names:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        module = importlib.import_module(f"benchmarks.{name}")
        figures += module.run()
    print()
    print_table(figures)
    missed = [f.name for f in figures if f.ok is False]
    if missed:
        print(f"\n{len(missed)} target(s) missed: {', '.join(missed)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
