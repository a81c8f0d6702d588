"""The frozen build (dist/ketalog, made by `make dist`): start-up of the binary against
the same command from source in the same run, and the size of what a clinic downloads.

Start-up is the wall time of a whole `ketalog --db DB --smoke` process (start, show the
window, paint it, quit), so the bootloader's unpacking and the import of the bundled
libraries are counted; to the login window (nothing in the environment) and to the main
window (KETALOG_USER/KETALOG_PASSWORD: one argon2 login). The benchmark never builds:
without a build it returns figures that say so."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_startup import _make_db
from benchmarks.common import Figure, median

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
BINARY = DIST / "ketalog" / "ketalog"
RUNS = 5
RATIO_TARGET = 1.5
ARCHIVE_TARGET_MB = 120


def _version() -> str:
    from ketalog import __version__

    return __version__


def archive_path() -> Path | None:
    found = sorted(DIST.glob(f"ketalog-{_version()}-*.tar.gz"))
    return found[-1] if found else None


def _folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*")
               if p.is_file() and not p.is_symlink()) / 1e6


def _time_ms(command: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    try:
        out = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=120, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:  # an old build waiting in a dialog
        raise RuntimeError(f"{command[0]} --smoke did not finish in 120 s") from exc
    took = (time.perf_counter() - t0) * 1000
    if out.returncode != 0 or " shown " not in out.stderr:
        raise RuntimeError(f"{command[0]} --smoke failed ({out.returncode}): {out.stderr}")
    return took


def _missing(reason: str) -> list[Figure]:
    return [Figure(f"frozen start-up: {reason}", math.nan, "ms", None,
                   f"<= {RATIO_TARGET}x source"),
            Figure(f"frozen archive size: {reason}", math.nan, "MB", None,
                   f"< {ARCHIVE_TARGET_MB} MB")]


def run() -> list[Figure]:
    if not BINARY.exists():
        return _missing("no build, run `make dist` first")
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp_text:
        tmp = Path(tmp_text)
        db = _make_db(tmp)
        env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
               "XDG_STATE_HOME": str(tmp / "state"), "XDG_DATA_HOME": str(tmp / "data")}
        for key in ("KETALOG_USER", "KETALOG_PASSWORD", "KETALOG_DB"):
            env.pop(key, None)
        logged_in = {**env, "KETALOG_USER": "nurse", "KETALOG_PASSWORD": "nurse-pass-1"}
        frozen = [str(BINARY), "--db", str(db), "--smoke"]
        source = [sys.executable, "-m", "ketalog", "--db", str(db), "--smoke"]
        try:  # a build older than the schema refuses the file: say so, measure the rest
            _time_ms(frozen, env)
        except RuntimeError as exc:
            print(f"bench_frozen: {exc}", file=sys.stderr)
            return _missing("the build fails (stale? run `make dist`)")
        for label, run_env in (("login window", env), ("main window logged in", logged_in)):
            _time_ms(frozen, run_env), _time_ms(source, run_env)  # warm the file cache
            ours, base = [], []
            for _ in range(RUNS):
                ours.append(_time_ms(frozen, run_env))
                base.append(_time_ms(source, run_env))
            value, baseline = median(ours), median(base)
            figures.append(Figure(f"frozen start-up, {label} (vs source)", value, "ms",
                                  baseline, f"<= {RATIO_TARGET}x",
                                  value <= RATIO_TARGET * baseline))
    figures.append(Figure("frozen dist/ketalog folder size", _folder_mb(BINARY.parent), "MB",
                          None, "-"))
    archive = archive_path()
    if archive is None:
        figures.append(_missing("no archive, run `make dist` first")[1])
    else:
        size = archive.stat().st_size / 1e6
        figures.append(Figure(f"frozen archive {archive.name}", size, "MB", None,
                              f"< {ARCHIVE_TARGET_MB} MB", size < ARCHIVE_TARGET_MB))
    return figures


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    from benchmarks.common import print_table

    print_table(run())
