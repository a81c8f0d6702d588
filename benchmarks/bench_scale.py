"""Ten years of a busy clinic (benchmarks/gen_ten_years.py) against one year of it, same
run: opening the app, patient search, a patient's course, a session, its PDF, backup,
verify and file size. Screens must not slow down with the years (baselines: a bare
indexed SQLite lookup, the same rows as raw tuples, or the "1 y" file); backup and
verify must scale linearly (their MB/s on ten years against the "1 y" file).

The "1 y" file is the same clinic over its last year (a tenth of the patients and
sessions, as busy every day), so a screen that reads only today's or one patient's rows
should cost the same on both; backup and verify should cost a tenth.

KETALOG_SCALE picks a fraction of the clinic (default 1.0: ~50,000 sessions, ~9 M
vitals); the one-year baseline is a tenth of it. Databases are built once and cached
by generator version and scale in KETALOG_SCALE_DIR (default /work/scale-data when it
exists, else the user cache folder). Nothing here writes to the cached files: contexts
are made without a login (which would audit) and exports are rendered, not recorded."""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from benchmarks.common import Figure, median, timings_ms  # noqa: E402
from benchmarks.gen_ten_years import END, cached  # noqa: E402
from ketalog.domain.clock import FixedClock  # noqa: E402
from ketalog.services.anchors import anchor_problems  # noqa: E402
from ketalog.services.auth import load_user  # noqa: E402
from ketalog.services.context import Context  # noqa: E402
from ketalog.services.course import load_course  # noqa: E402
from ketalog.services.patients import search_patients  # noqa: E402
from ketalog.services.record import load_record  # noqa: E402
from ketalog.services.series import planned_sessions  # noqa: E402
from ketalog.services.summary import session_lines, today_board  # noqa: E402
from ketalog.services.vitals_series import load_vitals, load_vitals_columns  # noqa: E402
from ketalog.store.backup import backup_to  # noqa: E402
from ketalog.store.connection import open_store  # noqa: E402
from ketalog.store.store import Store  # noqa: E402
from ketalog.store.verify import verify_store  # noqa: E402


def _data_dir() -> Path:
    chosen = os.environ.get("KETALOG_SCALE_DIR")
    if chosen:
        return Path(chosen)
    shared = Path("/work/scale-data")
    if shared.is_dir() and os.access(shared, os.W_OK):
        return shared
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("ketalog")) / "scale-data"


def _say(text: str) -> None:
    print(text, end="", file=sys.stderr, flush=True)


def _ids(path: Path) -> dict[str, object]:
    """What to open: the busiest patient, the densest device session, a name and a DOB."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        patient = conn.execute("SELECT patient_id FROM sessions GROUP BY patient_id "
                               "ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
        device = conn.execute(  # the newest signed 4-hour session with monitor data
            "SELECT s.id FROM sessions s JOIN protocols p ON p.id = s.protocol_id "
            "WHERE s.status = 'signed' AND EXISTS (SELECT 1 FROM vitals v "
            "WHERE v.session_id = s.id AND v.source LIKE 'device:%') "
            "ORDER BY p.duration_min DESC, s.id DESC LIMIT 1").fetchone()[0]
        mrn, family, birth = conn.execute(
            "SELECT mrn, family_name, birth_date FROM patients WHERE id = ?",
            [patient]).fetchone()
        sessions = conn.execute("SELECT count(*) FROM sessions WHERE patient_id = ?",
                                [patient]).fetchone()[0]
        readings = conn.execute("SELECT count(*) FROM vitals WHERE session_id = ?",
                                [device]).fetchone()[0]
    finally:
        conn.close()
    return {"patient": patient, "device": device, "mrn": mrn, "prefix": family[:3],
            "birth": birth, "sessions": sessions, "readings": readings}


def _context(store: Store, username: str) -> Context:
    user = load_user(store, username)
    assert user is not None
    return Context(store, store.clock, user)


def _ms(fn: Callable[[], object], n: int) -> float:
    fn()  # warm: page cache and statement cache, as a second look at a screen is
    return median(timings_ms(fn, n))


def _session_open(store: Store, session_id: int) -> None:
    """What ui/session_window reads before its first paint."""
    nurse = _context(store, "nurse1")
    load_record(nurse, session_id, with_vitals=False)
    columns = load_vitals_columns(nurse, session_id)
    load_vitals(nurse, columns.ids[:200])  # the first page of the vitals table


def _first_queries(ctx: Context) -> None:
    """The main window's first refresh: patient list, today board, awaiting signature,
    planned tab."""
    search_patients(ctx, "", limit=500)
    today_board(ctx, ctx.clock.now())
    session_lines(ctx, now=ctx.clock.now(), statuses=("completed",))
    planned_sessions(ctx, 14)


def _gui_open(store: Store, path: Path) -> float:
    """Main window shown offscreen, event loop run once, in ms (median of 3)."""
    from PySide6.QtWidgets import QApplication

    from ketalog.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    ctx = _context(store, "nurse1")
    runs = []
    for _ in range(4):
        t0 = time.perf_counter()
        window = MainWindow(ctx, path)
        window.show()
        app.processEvents()
        runs.append((time.perf_counter() - t0) * 1000)
        window.close()
        window.deleteLater()
        app.processEvents()
    return median(runs[1:])


def _pdf_ms(store: Store, session_id: int) -> tuple[float, float]:
    """(our export render, bare ReportLab of the same record) in ms."""
    from benchmarks.bench_session_pdf import _bare
    from ketalog.reports.session_pdf import session_pdf
    from ketalog.services.exports import session_report

    ctx = _context(store, "provider1")
    report = session_report(ctx, session_id)
    session_pdf(report)
    _bare(report.record)
    ours, bare = [], []
    for _ in range(3):
        t0 = time.perf_counter()
        session_pdf(session_report(ctx, session_id))
        ours.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        _bare(report.record)
        bare.append((time.perf_counter() - t0) * 1000)
    return median(ours), median(bare)


def _backup_s(store: Store, folder: Path) -> tuple[float, dict[str, float]]:
    """Seconds for backup_to, and per phase (copy, count, check copy)."""
    target = folder / "backup.sqlite"
    marks: list[tuple[str, float]] = []

    def phases(phase: str, done: int, total: int) -> None:
        if not marks or marks[-1][0] != phase:
            marks.append((phase, time.perf_counter()))

    t0 = time.perf_counter()
    backup_to(store, target, phases=phases)
    end = time.perf_counter()
    target.unlink()
    spans = {p: (marks[i + 1][1] if i + 1 < len(marks) else end) - t
             for i, (p, t) in enumerate(marks)}
    return end - t0, spans


def _copy_s(path: Path, folder: Path) -> float:
    """Baseline: a plain file copy with fsync (what the disk can do)."""
    target = folder / "copy.sqlite"
    t0 = time.perf_counter()
    shutil.copyfile(path, target)
    fd = os.open(target, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    seconds = time.perf_counter() - t0
    target.unlink()
    return seconds


# What verify checked before signatures needed their signer's key, rows were checked
# against their history and anchors outside the file were read: the "before" figure.
OLD_PHASES = ("integrity", "foreign keys", "audit chain", "signatures")


def _verify_s(store: Store) -> tuple[float, float]:
    """(today's whole verify with the anchors, the phases verify had before), seconds,
    from one run's phase marks."""
    marks: list[tuple[str, float]] = []

    def phases(phase: str, done: int, total: int) -> None:
        if not marks or marks[-1][0] != phase:
            marks.append((phase, time.perf_counter()))

    t0 = time.perf_counter()
    problems = verify_store(store, phases)
    inside = time.perf_counter()
    problems += anchor_problems(store)
    end = time.perf_counter()
    assert not problems, problems[:3]
    spans = {p: (marks[i + 1][1] if i + 1 < len(marks) else inside) - t
             for i, (p, t) in enumerate(marks)}
    return end - t0, sum(t for p, t in spans.items() if p in OLD_PHASES)


def _open_ms(path: Path, quick_check: bool = True) -> tuple[float, float]:
    """(open_store: schema and migration checks, pragmas, quick_check if asked; bare
    connect). The GUI opens without quick_check and runs it on a worker after showing."""
    def ours() -> None:
        open_store(path, FixedClock(END), quick_check=quick_check).close()

    def bare() -> None:
        conn = sqlite3.connect(path)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        conn.close()

    return _ms(ours, 3), _ms(bare, 5)


STARTUP = """
import time; t0 = time.perf_counter()
import sys
from pathlib import Path
from PySide6.QtWidgets import QApplication
from ketalog.domain.clock import SystemClock
from ketalog.services.auth import load_user
from ketalog.services.context import Context
from ketalog.store.connection import open_store
from ketalog.ui.main_window import MainWindow
app = QApplication([])
db, quick = Path(sys.argv[1]), sys.argv[2] == "1"
store = open_store(db, SystemClock(), quick_check=quick)
ctx = Context(store, SystemClock(), load_user(store, "nurse1"))  # no login: nothing written
w = MainWindow(ctx, db); w.resize(1200, 700); w.show()
app.processEvents()
print(time.perf_counter() - t0)
"""


def _startup_ms(path: Path) -> tuple[float, float, float]:
    """A fresh process to the shown main window on `path`: (as now, quick_check deferred;
    as before, quick_check at open; a bare Qt + pyqtgraph window), medians of 3."""
    from benchmarks.bench_startup import BARE, _time

    _time(STARTUP, str(path), "0")  # warm the page cache
    after, before, bare = [], [], []
    for _ in range(3):
        after.append(_time(STARTUP, str(path), "0"))
        before.append(_time(STARTUP, str(path), "1"))
        bare.append(_time(BARE))
    return median(after), median(before), median(bare)


def run() -> list[Figure]:
    scale = float(os.environ.get("KETALOG_SCALE", "1.0"))
    folder = _data_dir()
    big = cached(folder, scale, say=_say)
    small = cached(folder, round(scale / 10, 6), say=_say, years=1)
    years = "10 y" if scale == 1.0 else f"10 y x{scale:g}"
    ids = _ids(big)
    size_mb, small_mb = big.stat().st_size / 1e6, small.stat().st_size / 1e6
    figures = [Figure(f"file size, {years} vs 1 y", size_mb, "MB", small_mb, "~10x (linear)",
                      None)]

    open_big, bare = _open_ms(big)
    open_small, _ = _open_ms(small)
    open_deferred, _ = _open_ms(big, quick_check=False)
    figures.append(Figure(f"open {years} file (quick_check + checks) vs bare connect",
                          open_big, "ms", bare, "info: quick_check reads every page"))
    figures.append(Figure(f"open: {years} vs 1 y (linear in the file)", open_big, "ms",
                          open_small, "info", None))
    figures.append(Figure(f"open {years} as the GUI does now (check deferred) vs before "
                          "(quick_check at open)", open_deferred, "ms", open_big,
                          "after < 1000 ms", open_deferred < 1000))
    after, before, qt = _startup_ms(big)
    figures.append(Figure(f"start-up to main window on {years}: after (check on a worker "
                          "once shown) vs before (quick_check first)", after, "ms", before,
                          "after < 1000 ms", after < 1000))
    figures.append(Figure(f"start-up to main window on {years} vs bare Qt+pyqtgraph window",
                          after, "ms", qt, "info", None))

    store = open_store(big, FixedClock(END))
    small_store = open_store(small, FixedClock(END))
    try:
        nurse, small_nurse = _context(store, "nurse1"), _context(small_store, "nurse1")
        first, first_small = _ms(lambda: _first_queries(nurse), 5), _ms(
            lambda: _first_queries(small_nurse), 5)
        figures.append(Figure("main window first queries (list, board, awaiting, planned)",
                              first, "ms", first_small, "~1x of 1 y", first < 3 * first_small + 5))
        gui, gui_small = _gui_open(store, big), _gui_open(small_store, small)
        figures.append(Figure("main window open offscreen, shown", gui, "ms", gui_small,
                              "~1x of 1 y", gui < 2 * gui_small + 50))

        raw = sqlite3.connect(f"file:{big}?mode=ro", uri=True)
        lookup = _ms(lambda: raw.execute("SELECT * FROM patients WHERE mrn = ?",
                                         [ids["mrn"]]).fetchall(), 50)
        raw.close()
        for label, text in (("name prefix", ids["prefix"]), ("MRN", ids["mrn"]),
                            ("DOB", ids["birth"])):
            value = _ms(lambda t=text: search_patients(nurse, str(t)), 30)
            figures.append(Figure(f"patient search by {label} ({years})", value, "ms",
                                  lookup, "< 50 ms", value < 50))

        course = _ms(lambda: load_course(nurse, int(ids["patient"])), 5)  # type: ignore[call-overload]
        raw = sqlite3.connect(f"file:{big}?mode=ro", uri=True)

        def bare_course() -> None:  # the rows the course needs, as raw tuples
            sids = [r[0] for r in raw.execute("SELECT id FROM sessions WHERE patient_id = ?",
                                              [ids["patient"]])]
            for sid in sids:
                for table in ("dose_events", "scores", "side_effects", "follow_ups"):
                    raw.execute(f"SELECT * FROM {table} WHERE session_id = ?", [sid]).fetchall()

        course_bare = _ms(bare_course, 5)
        figures.append(Figure(f"course view data, busiest patient ({ids['sessions']} sessions)",
                              course, "ms", course_bare, "< 200 ms", course < 200))

        opened = _ms(lambda: _session_open(store, int(ids["device"])), 7)  # type: ignore[call-overload]
        bare_open = _ms(lambda: raw.execute(
            "SELECT id, at, sbp_mmhg, dbp_mmhg, map_mmhg, hr_bpm, spo2_pct, artifact FROM "
            "vitals WHERE session_id = ? ORDER BY at, id", [ids["device"]]).fetchall(), 7)
        raw.close()
        figures.append(Figure(f"session open data, device session ({ids['readings']} vitals)",
                              opened, "ms", bare_open, "< 150 ms", opened < 150))

        pdf, pdf_bare = _pdf_ms(store, int(ids["device"]))  # type: ignore[call-overload]
        figures.append(Figure("session PDF of that session vs bare ReportLab", pdf, "ms",
                              pdf_bare, "<= 1.5x (as bench_session_pdf)",
                              pdf <= 1.5 * pdf_bare))

        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            _say("backup and verify of the ten-year file (minutes at full scale) ...\n")
            (b_small, _), (b_big, spans) = (_backup_s(small_store, Path(tmp)),
                                            _backup_s(store, Path(tmp)))
            copy = _copy_s(big, Path(tmp))
        rate, rate_small = size_mb / b_big, small_mb / b_small
        figures.append(Figure(f"backup {years}: MB/s vs 1 y (linear = 1x)", rate, "MB/s",
                              rate_small, ">= 0.7x (linear)", rate >= 0.7 * rate_small))
        figures.append(Figure(f"backup {years}: MB/s vs cp+fsync of the same file", rate,
                              "MB/s", size_mb / copy, "info (backup reads it ~3 times)"))
        split = ", ".join(f"{p} {t:.1f}" for p, t in spans.items())
        figures.append(Figure(f"backup {years}: seconds ({split})", b_big, "s", b_small,
                              "info", None))
        (v_small, _), (v_big, v_before) = _verify_s(small_store), _verify_s(store)
        rate, rate_small = size_mb / v_big, small_mb / v_small
        figures.append(Figure(f"verify {years}: MB/s vs 1 y (linear = 1x)", rate, "MB/s",
                              rate_small, ">= 0.7x (linear)", rate >= 0.7 * rate_small))
        figures.append(Figure(f"verify {years}: seconds", v_big, "s", v_small, "info", None))
        figures.append(Figure(f"verify {years}: after (keys, rows against history, anchors) "
                              "vs before (integrity, chain, content hashes)", v_big, "s",
                              v_before, "info: the price of the checks added", None))
    finally:
        store.close()
        small_store.close()
    return figures


if __name__ == "__main__":
    from benchmarks.common import print_table

    print_table(run())
