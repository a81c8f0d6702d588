"""Backups are verified copies; restore swaps them in and keeps the replaced file; a
damaged backup is refused before anything is touched."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from ketalog.domain.clock import to_iso
from ketalog.store.backup import backup_to, check_copy, restore_from
from ketalog.store.connection import open_store
from ketalog.store.errors import StoreError
from ketalog.store.store import SYSTEM, Store
from ketalog.store.verify import verify_store

pytestmark = pytest.mark.both_engines
FILE_BACKUP = ("the online backup and restore of the local SQLite file (a clinic server is "
               "backed up by its administrator with pg_dump)")

STAMP = "20261124T140000"


def add_session(store: Store, mrn: str, readings: int) -> int:
    now = to_iso(store.clock.now())
    with store.write(SYSTEM) as w:
        pid = w.insert("patients", {"mrn": mrn, "family_name": "Doe", "given_name": "Jo",
                                    "birth_date": "1970-01-01", "created_at": now})
        sid = w.insert("sessions", {
            "patient_id": pid, "series_number": 1, "series_total": 1, "weight_kg": 80.0,
            "bag_drug": "ketamine", "bag_concentration_mg_per_ml": 1.0,
            "bag_volume_ml": 100.0, "status": "in_progress", "created_at": now})
        w.insert_many("vitals", ({"session_id": sid, "at": now, "sbp_mmhg": 100.0 + i % 50,
                                  "hr_bpm": 70.0, "source": f"monitor reading {i:05d}",
                                  "entered_at": now} for i in range(readings)))
    return sid


@pytest.fixture
def populated(store: Store) -> Store:
    add_session(store, "MRN-1", 1500)  # a file of a few hundred pages
    return store


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.sqlite_only(FILE_BACKUP)
def test_backup_is_a_verified_identical_copy(populated, tmp_path):
    target = tmp_path / "backups" / "k-backup.db"
    seen: list[tuple[int, int]] = []
    report = backup_to(populated, target, progress=lambda done, total: seen.append((done, total)),
                       pages_per_step=50)
    assert report.path == target and target.is_file()
    assert report.size_bytes == target.stat().st_size
    expected = populated.table_counts()
    assert report.row_counts == expected
    assert check_copy(target) == expected
    assert expected["vitals"] == 1500
    assert len(seen) > 1 and seen[-1][0] == seen[-1][1]
    assert not list(target.parent.glob("*.partial"))


@pytest.mark.sqlite_only(FILE_BACKUP)
def test_backup_refuses_to_overwrite(populated, tmp_path):
    target = tmp_path / "existing.db"
    target.write_bytes(b"precious")
    with pytest.raises(StoreError, match="already exists"):
        backup_to(populated, target)
    assert target.read_bytes() == b"precious"


@pytest.mark.sqlite_only(FILE_BACKUP)
def test_restore_replaces_database_and_keeps_the_old_one(populated, tmp_path, clock):
    backup = tmp_path / "backup.db"
    backed_up = backup_to(populated, backup).row_counts
    add_session(populated, "MRN-AFTER", 10)  # written after the backup
    after = populated.table_counts()
    db_path = populated.path
    populated.close()

    report = restore_from(backup, db_path, STAMP)

    assert report.row_counts == backed_up
    assert report.replaced_copy == db_path.with_name(f"{db_path.name}.replaced-{STAMP}")
    assert check_copy(report.replaced_copy) == after  # nothing lost: it is set aside
    reopened = open_store(db_path, clock)
    try:
        assert reopened.table_counts() == backed_up
        assert reopened.get_by("patients", mrn="MRN-AFTER") is None
        assert reopened.get_by("patients", mrn="MRN-1") is not None
        assert verify_store(reopened) == []
    finally:
        reopened.close()


@pytest.mark.sqlite_only(FILE_BACKUP)
def test_restore_is_refused_while_another_ketalog_has_the_file_open(populated, tmp_path,
                                                                    clock):
    """The other program would go on writing into the file set aside: records lost."""
    backup = tmp_path / "backup.db"
    backup_to(populated, backup)
    db_path = populated.path
    counts = populated.table_counts()
    other = open_store(db_path, clock)  # a second workstation, or `ketalog listen-hl7`
    populated.close()
    try:
        with pytest.raises(StoreError, match="open in another program"):
            restore_from(backup, db_path, STAMP)
        assert not db_path.with_name(f"{db_path.name}.replaced-{STAMP}").exists()
        assert other.get_by("patients", mrn="MRN-1") is not None  # still its database
    finally:
        other.close()
    assert check_copy(db_path) == counts  # the database was left as it was
    restore_from(backup, db_path, STAMP)  # once it is closed, the restore goes ahead


def corrupt_middle(path: Path) -> None:
    """Overwrite two pages' worth of bytes in the middle of the file (header intact)."""
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 65536
    start = (len(data) // page // 2) * page + 100
    data[start:start + 2 * page] = b"\xa5" * (2 * page)
    path.write_bytes(bytes(data))


def truncate_half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.sqlite_only(FILE_BACKUP)
@pytest.mark.parametrize("damage", [corrupt_middle, truncate_half])
def test_damaged_backup_is_refused_and_database_untouched(populated, tmp_path, damage):
    backup = tmp_path / "backup.db"
    backup_to(populated, backup)
    check_copy(backup)  # sound before the damage
    damage(backup)
    assert backup.read_bytes()[:16] == b"SQLite format 3\x00"

    with pytest.raises(StoreError):
        check_copy(backup)

    db_path = populated.path
    counts = populated.table_counts()
    populated.close()
    before = sha(db_path)
    with pytest.raises(StoreError):
        restore_from(backup, db_path, STAMP)
    assert sha(db_path) == before
    assert not list(db_path.parent.glob(f"{db_path.name}.replaced-*"))
    assert check_copy(db_path) == counts


def test_insert_many_refuses_rows_with_different_columns(store):
    from ketalog.store.errors import StoreError
    from ketalog.store.store import SYSTEM

    before = store.count("clinic_settings")
    with pytest.raises(StoreError, match="row 1 has columns"):
        with store.write(SYSTEM) as w:
            w.insert_many("clinic_settings", [{"key": "a", "value": "1"}, {"key": "b"}])
    assert store.count("clinic_settings") == before
