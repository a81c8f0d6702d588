"""Faults while recording: a full disk and a read-only database give a clear message,
leave nothing half-written (the reading and its audit entry go together or not at all),
and the same entry succeeds once space is freed. Two ketalogs writing the same file at
once both succeed and the audit chain stays whole."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ketalog.domain.clock import FixedClock
from ketalog.services import sessions
from ketalog.store.connection import open_store
from ketalog.store.errors import ReadOnlyDatabase, StoreError
from ketalog.store.store import Store
from ketalog.store.verify import verify_store

from .helpers import NURSE_PW, Staff, make_staff, raw_connect, start_patient_session

pytestmark = [pytest.mark.both_engines, pytest.mark.sqlite_only(
    "faults of the local file: its disk full or read-only, its own write lock (the shared two-writer and busy behaviour is tests/store/test_two_connections.py's)")]

WRITER = Path(__file__).with_name("crash_writer.py")
READING = {"sbp_mmhg": 118, "dbp_mmhg": 76, "hr_bpm": 72, "spo2_pct": 98}


def vitals_and_their_audit(store: Store) -> tuple[int, int]:
    audited = sum(1 for r in store.audit_rows(table_name="vitals") if r["action"] == "insert")
    return store.count("vitals"), audited


def record_until_error(staff: Staff, session_id: int, limit: int = 20000) -> StoreError:
    for _ in range(limit):
        try:
            sessions.record_vitals(staff.nurse, session_id, READING)
        except StoreError as exc:
            return exc
    raise AssertionError("the disk never filled up")


def mount_tmpfs(folder: Path, size: str) -> None:
    folder.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                             str(folder)], capture_output=True)
    if result.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")


@pytest.fixture
def small_disk(tmp_path) -> Iterator[Path]:
    folder = tmp_path / "small-disk"
    mount_tmpfs(folder, "3m")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


def test_max_page_count_full_database(tmp_path, clock):
    store = open_store(tmp_path / "k.sqlite", clock)
    try:
        staff = make_staff(store, clock)
        _, sid = start_patient_session(staff)
        conn = store.conn
        conn.execute(f"PRAGMA max_page_count = {conn.execute('PRAGMA page_count').fetchone()[0]}")
        error = record_until_error(staff, sid)
        assert "disk is full" in str(error) and "nothing was saved" in str(error)
        stored, audited = vitals_and_their_audit(store)
        assert stored == audited  # the failed reading left neither row nor audit entry
        assert verify_store(store) == []
        conn.execute("PRAGMA max_page_count = 1073741823")  # space freed
        reading = sessions.record_vitals(staff.nurse, sid, READING)  # the same entry again
        assert store.get("vitals", reading.id) is not None
        assert vitals_and_their_audit(store) == (stored + 1, audited + 1)
        assert verify_store(store) == []
    finally:
        store.close()


def test_real_full_disk_then_space_freed(small_disk, clock):
    store = open_store(small_disk / "k.sqlite", clock)
    filler = small_disk / "filler.bin"
    try:
        staff = make_staff(store, clock)
        _, sid = start_patient_session(staff)
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
        try:  # fill the disk, then give back a few pages
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError:
            pass
        finally:
            os.close(fd)
        os.truncate(filler, filler.stat().st_size - 64 * 1024)
        error = record_until_error(staff, sid)
        assert "disk is full" in str(error)
        stored, audited = vitals_and_their_audit(store)
        assert stored == audited
        filler.unlink()
        reading = sessions.record_vitals(staff.nurse, sid, READING)
        assert store.get("vitals", reading.id) is not None
        assert verify_store(store) == []
    finally:
        store.close()
        filler.unlink(missing_ok=True)
    reopened = open_store(small_disk / "k.sqlite", clock)
    try:
        assert vitals_and_their_audit(reopened) == (stored + 1, audited + 1)
        assert verify_store(reopened) == []
    finally:
        reopened.close()


def test_read_only_disk_is_refused_clearly_and_left_untouched(tmp_path, clock):
    folder = tmp_path / "ro-disk"
    mount_tmpfs(folder, "8m")
    try:
        store = open_store(folder / "k.sqlite", clock)
        start_patient_session(make_staff(store, clock))
        store.close()
        files = {p.name: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        with pytest.raises(ReadOnlyDatabase, match="read-only") as info:
            open_store(folder / "k.sqlite", clock)
        assert "Traceback" not in str(info.value)
        assert {p.name: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == files
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file modes (the mount test "
                    "covers read-only for root)")
def test_read_only_file_mode_is_refused(tmp_path, clock):  # pragma: no cover - non-root
    store = open_store(tmp_path / "k.sqlite", clock)
    store.close()
    (tmp_path / "k.sqlite").chmod(0o444)
    with pytest.raises(ReadOnlyDatabase):
        open_store(tmp_path / "k.sqlite", clock)


def test_database_turning_read_only_while_open_keeps_nothing_half_written(tmp_path, clock):
    store = open_store(tmp_path / "k.sqlite", clock)
    try:
        staff = make_staff(store, clock)
        _, sid = start_patient_session(staff)
        before = vitals_and_their_audit(store)
        store.conn.execute("PRAGMA query_only = ON")  # what SQLite reports for a ro file
        with pytest.raises(StoreError, match="read-only: nothing was saved"):
            sessions.record_vitals(staff.nurse, sid, READING)
        store.conn.execute("PRAGMA query_only = OFF")
        assert vitals_and_their_audit(store) == before
        sessions.record_vitals(staff.nurse, sid, READING)
        assert verify_store(store) == []
    finally:
        store.close()


@pytest.mark.slow
def test_two_ketalogs_write_the_same_file_at_once(tmp_path):
    from datetime import UTC, datetime

    clock = FixedClock(datetime(2026, 11, 24, 14, 0, tzinfo=UTC))
    path = tmp_path / "shared.sqlite"
    store = open_store(path, clock)
    _, sid = start_patient_session(make_staff(store, clock))
    store.close()
    per_writer = 150
    children = [subprocess.Popen(
        [sys.executable, str(WRITER), str(path), "nina", NURSE_PW, str(sid), tag,
         str(per_writer)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for tag in ("workstation-a", "workstation-b")]
    outputs = [child.communicate(timeout=300) for child in children]
    for child, (out, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err
        assert len(out.split()) == per_writer + 1  # "ready" and one uuid per reading
    store = open_store(path, clock)
    try:
        for tag, (out, _) in zip(("workstation-a", "workstation-b"), outputs, strict=True):
            stored = {r["uuid"] for r in store.rows("vitals", source=tag)}
            assert stored == set(out.split()[1:])
        assert verify_store(store) == []  # one unbroken audit chain from both writers
    finally:
        store.close()


def test_a_writer_held_up_by_another_is_told_to_retry(tmp_path, clock):
    store = open_store(tmp_path / "k.sqlite", clock)
    other = raw_connect(tmp_path / "k.sqlite")
    try:
        staff = make_staff(store, clock)
        _, sid = start_patient_session(staff)
        before = vitals_and_their_audit(store)
        other.execute("BEGIN IMMEDIATE")  # another ketalog in the middle of a long write
        store.conn.execute("PRAGMA busy_timeout = 200")
        with pytest.raises(StoreError, match="busy \\(another ketalog is writing\\); try again"):
            sessions.record_vitals(staff.nurse, sid, READING)
        other.execute("ROLLBACK")
        assert vitals_and_their_audit(store) == before
        sessions.record_vitals(staff.nurse, sid, READING)
        assert verify_store(store) == []
    finally:
        other.close()
        store.close()
