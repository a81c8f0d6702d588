"""Smoke test of a ketalog build, run by `make dist` on dist/ketalog/ketalog.

What a clinic does on the first day, through the binary itself: print the version (the
windowed build must still write to a terminal), create a demo database, log in as the
demo nurse, export a session PDF (checked: a PDF with the DejaVu fonts embedded), verify
the database, and start the GUI with --smoke on the offscreen platform and, when
xvfb-run is installed, on xcb. Everything lives in a temporary folder, including the
log and data folders (XDG_*), so nothing touches the builder's own ketalog.

    python tools/frozen_smoke.py [BINARY ...]   (default: dist/ketalog/ketalog)

BINARY may be several words (`python -m ketalog`): tests run this script from source.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "dist" / "ketalog" / "ketalog"
TIMEOUT = 180


class SmokeFailed(Exception):
    pass


def _run(command: list[str], env: dict[str, str], what: str,
         expect: int = 0) -> subprocess.CompletedProcess[str]:
    t0 = time.perf_counter()
    out = subprocess.run(command, env=env, capture_output=True, text=True, timeout=TIMEOUT,
                         stdin=subprocess.DEVNULL)
    took = time.perf_counter() - t0
    if out.returncode != expect:
        raise SmokeFailed(f"{what}: exit {out.returncode} (expected {expect})\n"
                          f"stdout: {out.stdout[-2000:]}\nstderr: {out.stderr[-2000:]}")
    print(f"  ok  {what} ({took:.2f} s)")
    return out


def check_pdf(path: Path) -> None:
    """A real PDF whose text is set in the bundled DejaVu fonts, embedded (FontFile2)."""
    data = path.read_bytes()
    if not data.startswith(b"%PDF") or len(data) < 1000:
        raise SmokeFailed(f"{path} is not a PDF ({len(data)} bytes)")
    fonts = set(re.findall(rb"/BaseFont\s*/(?:[A-Z]{6}\+)?(DejaVu[\w-]*)", data))
    if b"DejaVuSans" not in fonts or b"/FontFile2" not in data:
        raise SmokeFailed(f"{path}: DejaVu fonts not embedded (found {sorted(fonts)})")
    print(f"  ok  PDF {len(data) / 1024:.0f} KB, embedded: "
          f"{', '.join(sorted(f.decode() for f in fonts))}")


def smoke(binary: list[str], xcb: bool = True) -> None:
    with tempfile.TemporaryDirectory(prefix="ketalog-smoke-") as tmp_text:
        tmp = Path(tmp_text)
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
               "XDG_DATA_HOME": str(tmp / "data"), "XDG_STATE_HOME": str(tmp / "state"),
               "XDG_CACHE_HOME": str(tmp / "cache"), "XDG_CONFIG_HOME": str(tmp / "config")}
        for key in ("KETALOG_DB", "KETALOG_USER", "KETALOG_PASSWORD", "KETALOG_PASSPHRASE"):
            env.pop(key, None)
        db = tmp / "demo.sqlite"
        base = [*binary, "--db", str(db)]

        version = _run([*binary, "--version"], env, "--version on stdout").stdout
        if not version.startswith("ketalog "):
            raise SmokeFailed(f"--version printed {version!r} to stdout")
        demo = _run([*base, "demo"], env, "demo database").stdout
        match = re.search(r"^\s+nurse\s+(\S+)$", demo, re.MULTILINE)
        if not match:
            raise SmokeFailed(f"no nurse password in the demo output:\n{demo}")
        nurse = {**env, "KETALOG_PASSWORD": match.group(1)}
        rows = json.loads(_run([*base, "--user", "nurse", "sessions", "--json"], nurse,
                               "log in as nurse, list sessions").stdout)
        signed = [r["id"] for r in rows if r["status"] == "signed"] or [rows[0]["id"]]
        pdf = tmp / "session.pdf"
        _run([*base, "--user", "nurse", "export", "pdf", "--session", str(signed[0]),
              "--out", str(pdf)], nurse, f"export session {signed[0]} as PDF")
        check_pdf(pdf)
        if "sound" not in _run([*base, "verify"], env, "verify").stdout:
            raise SmokeFailed("verify did not report a sound database")

        gui = {**nurse, "KETALOG_USER": "nurse"}
        err = _run([*base, "--smoke"], gui, "GUI main window (offscreen)").stderr
        if "mainWindow shown (platform offscreen)" not in err:
            raise SmokeFailed(f"the main window was not shown offscreen:\n{err[-2000:]}")
        if xcb and shutil.which("xvfb-run"):
            err = _run(["xvfb-run", "-a", *base, "--smoke"], {**gui, "QT_QPA_PLATFORM": "xcb"},
                       "GUI main window (xcb, Xvfb)").stderr
            if "mainWindow shown (platform xcb)" not in err:
                raise SmokeFailed(f"the main window was not shown on xcb:\n{err[-2000:]}")
        elif xcb:
            print("  --  xcb not tried: xvfb-run is not installed")


def main(argv: list[str]) -> int:
    binary = argv or [str(DEFAULT)]
    if len(binary) == 1 and not Path(binary[0]).exists():
        print(f"no build at {binary[0]}: run `make dist`", file=sys.stderr)
        return 2
    print(f"smoke test of {' '.join(binary)}")
    try:
        smoke(binary)
    except (SmokeFailed, subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    print("smoke test passed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
