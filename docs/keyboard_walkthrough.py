"""A whole session logged with the keyboard alone, on a 1366x768 X display: the real app
in its own process, driven by xdotool, photographed with ImageMagick's `import` into
docs/screenshots/walkthrough/, then the database checked for what was typed.

Run by `make screenshots` as
    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python docs/keyboard_walkthrough.py
It needs xdotool and imagemagick. Under Xvfb there is no window manager, so windows have
no title bars and each new window gets the keyboard by xdotool's windowfocus."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots" / "walkthrough"
sys.path.insert(0, str(ROOT))

from ketalog.domain.clock import SystemClock  # noqa: E402
from ketalog.domain.entities import Bag, Role  # noqa: E402
from ketalog.services import sessions as svc  # noqa: E402
from ketalog.services.auth import add_user, bootstrap_admin, login  # noqa: E402
from ketalog.services.patients import PatientInput, create_patient  # noqa: E402
from ketalog.services.protocols import seed_protocols  # noqa: E402
from ketalog.store.connection import open_store  # noqa: E402
from ketalog.store.store import SYSTEM  # noqa: E402

NURSE_PASSWORD = "walk-through-nurse-1"
STEP_PAUSE_S = 0.8


def xdo(*args: str) -> str:
    return subprocess.run(["xdotool", *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def keys(*names: str) -> None:
    for name in names:
        xdo("key", "--clearmodifiers", name)
        time.sleep(0.15)
    time.sleep(STEP_PAUSE_S)


def type_text(text: str) -> None:
    xdo("type", "--delay", "60", text)
    time.sleep(0.3)


def window(title_part: str, timeout_s: float = 40) -> str:
    """Wait for a window whose title contains `title_part`, give it the keyboard."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", title_part],
                               capture_output=True, text=True).stdout.split()
        if found:
            wid = found[-1]
            subprocess.run(["xdotool", "windowfocus", "--sync", wid], capture_output=True)
            time.sleep(STEP_PAUSE_S)
            return wid
        time.sleep(0.3)
    visible = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "."],
                             capture_output=True, text=True).stdout.split()
    names = [subprocess.run(["xdotool", "getwindowname", w], capture_output=True,
                            text=True).stdout.strip() for w in visible]
    raise SystemExit(f"no window titled like {title_part!r} after {timeout_s:.0f} s "
                     f"(visible: {names})")


def shot(n: int, name: str) -> None:
    time.sleep(STEP_PAUSE_S)
    path = OUT / f"{n:02d}-{name}.png"
    subprocess.run(["import", "-window", "root", str(path)], check=True)
    print(f"wrote {path}")


def prepare(db: Path) -> tuple[int, str]:
    """A clinic with a nurse, a patient with 'morphine (itching)' and Chair 1 taken."""
    clock = SystemClock()
    store = open_store(db, clock)
    bootstrap_admin(store, clock, "admin", "walk-through-admin-1", "Ada Admin", "Walk Clinic")
    admin = login(store, clock, "admin", "walk-through-admin-1")
    add_user(admin, "nurse", [Role.NURSE], NURSE_PASSWORD, "Nina Nurse", "RN")
    seed_protocols(store, SYSTEM)
    nurse = login(store, clock, "nurse", NURSE_PASSWORD)
    other = create_patient(nurse, PatientInput("W0001", "Moreau", "Luc", date(1970, 1, 1),
                                               indication="neuropathic pain"))
    svc.start_session(nurse, svc.SessionStart(other.id, 80, Bag("ketamine", 1, 500),
                                              chair="Chair 1"))
    patient = create_patient(nurse, PatientInput(
        "W0002", "Lindqvist", "Åsa", date(1971, 4, 2), "female",
        allergies="morphine (itching)", indication="neuropathic pain"))
    store.close()
    return int(patient.id or 0), "W0002"


def check(db: Path, patient_id: int) -> list[str]:
    """What the keyboard recorded, read back from the database."""
    store = open_store(db, SystemClock())
    try:
        (session,) = [r for r in store.rows("sessions") if r["patient_id"] == patient_id]
        sid = int(session["id"])  # type: ignore[call-overload]
        kinds = [r["kind"] for r in store.rows("dose_events", order_by="at, id", session_id=sid)]
        problems = []
        if session["status"] != "completed":
            problems.append(f"session status {session['status']}, expected completed")
        if session["chair"] != "Chair 2":
            problems.append(f"chair {session['chair']!r}, expected the free Chair 2")
        if store.count("vitals", session_id=sid) != 2:
            problems.append(f"{store.count('vitals', session_id=sid)} vitals, expected 2")
        if kinds != ["start", "stop"]:
            problems.append(f"dose events {kinds}, expected start, stop")
        acks = store.rows("acknowledgements", order_by="at, id", session_id=sid)
        if sorted(a["kind"] for a in acks) != ["alarm", "allergy"]:
            problems.append(f"acknowledgements {[a['kind'] for a in acks]}")
        if [s["value"] for s in store.rows("scores", session_id=sid)] != [3]:
            problems.append("the NRS 3 is not recorded")
        print(f"session {sid}: {session['status']}, {session['chair']}, doses {kinds}, "
              f"{len(acks)} acknowledgements: "
              + "; ".join(f"{a['kind']}: {a['response']}" for a in acks))
        return problems
    finally:
        store.close()


def main() -> int:
    for tool in ("xdotool", "import"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed: walk-through skipped")
            return 0
    if not os.environ.get("DISPLAY"):
        print("no X display (run under xvfb-run): walk-through skipped")
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.png"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "walk.sqlite"
        patient_id, mrn = prepare(db)
        env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "XDG_CONFIG_HOME": str(Path(tmp) / "cfg"),
               "XDG_DATA_HOME": str(Path(tmp) / "data")}
        app = subprocess.Popen([sys.executable, "-m", "ketalog", "--db", str(db)], cwd=ROOT,
                               env=env)
        try:
            window("log in")
            type_text("nurse")
            keys("Tab")
            type_text(NURSE_PASSWORD)
            keys("Return")
            window("Walk Clinic")
            shot(1, "main-window")
            keys("ctrl+f")
            type_text(mrn)
            keys("ctrl+shift+s")
            window("Start session")
            keys("alt+w")
            type_text("64")
            shot(2, "start-dialog-free-chair")
            keys("Return")
            window("session ")
            shot(3, "session-opened")
            type_text("128")
            keys("Tab")
            type_text("82")
            keys("Tab")
            type_text("76")
            keys("Tab")
            type_text("98")
            keys("Tab")
            type_text("14")
            keys("Return")
            keys("alt+s")  # start infusion
            shot(4, "infusing")
            keys("alt+1")
            keys("Tab", "Tab", "Tab")
            type_text("86")  # SpO2 86 %
            keys("Return")
            shot(5, "alarm-banner")
            keys("alt+k")
            type_text("probe repositioned, SpO2 97 %")
            keys("Return")
            shot(6, "alarm-acknowledged")
            keys("alt+3")  # medications
            type_text("morphine")
            keys("Tab")
            type_text("2")
            keys("Tab", "Tab", "Tab")  # unit mg, route IV, to the reason
            type_text("pain")
            keys("Return")
            window("Allergy warning")
            shot(7, "allergy-warning")
            type_text("itching only; provider aware")
            keys("Return")  # Enter alone records nothing
            keys("alt+a")
            window("session ")
            shot(8, "medication-acknowledged")
            keys("alt+t")  # stop: the question
            window("Stop infusion")
            shot(9, "stop-question")
            keys("Return")  # Enter keeps it running
            window("session ")
            keys("alt+t")
            window("Stop infusion")
            keys("alt+t")  # Stop infusion
            window("session ")
            keys("alt+4")  # scores: post NRS 3
            type_text("3")
            keys("Return")
            shot(10, "stopped-post-nrs")
            keys("alt+m")  # complete: the discharge-readiness checks
            window("Complete session")
            keys("alt+e")
            type_text("Tom Lindqvist (son)")
            keys("alt+i", "Tab")  # past the instructions to the first failed check
            for _ in range(2):  # observation time and discharge score fail here
                type_text("walk-through: checked by the nurse in person")
                keys("Tab")
            shot(11, "complete-dialog")
            keys("alt+c")
            window("session ")
            shot(12, "completed")
            keys("ctrl+w")
            window("Walk Clinic")
            keys("ctrl+q")
            app.wait(timeout=30)
        finally:
            if app.poll() is None:
                app.terminate()
                app.wait(timeout=10)
        problems = check(db, patient_id)
    for problem in problems:
        print(f"walk-through: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
