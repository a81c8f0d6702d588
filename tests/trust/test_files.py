"""Empty and foreign files are never a new clinic; verify reads without writing a byte,
also from read-only media; files holding records are owner-only whatever the umask."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest

from ketalog.cli import main
from ketalog.domain.clock import FixedClock
from ketalog.services import auth
from ketalog.services.errors import ServiceError
from ketalog.store.connection import open_for_verify, open_store
from ketalog.store.errors import EmptyDatabase, NotKetalogDatabase
from tests.trust.attack import copy_clinic, raw
from tests.trust.test_attacks import START, signed_clinic  # noqa: F401 - fixture


@pytest.fixture
def clinic(tmp_path: Path, signed_clinic):  # noqa: F811
    template, _ = signed_clinic
    return copy_clinic(template, tmp_path / "clinic.sqlite"), FixedClock(START)


def _listing(folder: Path) -> dict[str, tuple[int, float, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime, p.stat().st_mode)
            for p in sorted(folder.rglob("*"))}


def test_an_emptied_database_is_refused_by_verify_open_and_init_naming_the_backup(
        clinic, capsys, monkeypatch):
    path, clock = clinic
    path.write_bytes(b"")
    backup = sorted((path.parent / "backups").glob("clinic-*.sqlite"))[-1]
    before = _listing(path.parent)
    for argv in (["verify"], ["patients"], ["init", "--clinic", "New", "--admin", "boss"]):
        monkeypatch.setenv("KETALOG_PASSWORD", "a-new-password-1")
        assert main(["--db", str(path), *argv], clock) == 1
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "Traceback" not in err, err
        assert "empty (0 bytes)" in err and str(backup) in err, err
    with pytest.raises(EmptyDatabase):
        open_store(path, clock)
    assert path.read_bytes() == b""
    assert _listing(path.parent) == before  # nothing created, nothing written


def test_a_clinic_whose_accounts_were_deleted_is_not_a_new_clinic(clinic):
    path, clock = clinic
    conn = raw(path)
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("DELETE FROM user_roles")
    conn.execute("DELETE FROM users")
    conn.close()
    store = open_store(path, clock)
    try:
        with pytest.raises(ServiceError, match="not a new clinic; restore a backup"):
            auth.bootstrap_admin(store, clock, "mallory", "mallory-pass-1")
    finally:
        store.close()


def test_foreign_files_are_refused_by_verify(tmp_path, clock, capsys):
    other = tmp_path / "photos.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE album (id INTEGER PRIMARY KEY)")
    conn.commit()
    conn.close()
    empty_sqlite = tmp_path / "blank.db"
    sqlite3.connect(empty_sqlite).execute("PRAGMA user_version = 1")
    text = tmp_path / "notes.db"
    text.write_text("not a database\n")
    for path, reason in ((other, "not a ketalog database"),
                         (empty_sqlite, "not a ketalog database"),
                         (text, "not a ketalog database")):
        before = path.read_bytes()
        assert main(["--db", str(path), "verify"], clock) == 1
        err = capsys.readouterr().err
        assert reason in err and "Traceback" not in err
        assert path.read_bytes() == before
    with pytest.raises(NotKetalogDatabase):
        open_for_verify(empty_sqlite, clock)


def test_verify_writes_nothing(clinic, capsys):
    path, clock = clinic
    before = _listing(path.parent)
    assert main(["--db", str(path), "verify"], clock) == 0
    assert "sound" in capsys.readouterr().out
    assert _listing(path.parent) == before  # no -wal, no -shm, no migration, no anchor


def _mount_tmpfs(where: Path) -> bool:
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(where)],
                          capture_output=True)
    return done.returncode == 0


def test_verify_works_on_read_only_media(clinic, tmp_path, capsys):
    path, clock = clinic
    media = tmp_path / "media"
    if os.geteuid() != 0 or not _mount_tmpfs(media):
        pytest.skip("mounting a tmpfs needs root")
    try:
        shutil.copy(path, media / "clinic.sqlite")
        subprocess.run(["mount", "-o", "remount,ro", str(media)], check=True)
        assert main(["--db", str(media / "clinic.sqlite"), "verify"], clock) == 0
        assert "sound" in capsys.readouterr().out
        assert sorted(p.name for p in media.iterdir()) == ["clinic.sqlite"]
    finally:
        subprocess.run(["umount", str(media)], check=False)


@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_files_holding_records_are_owner_only_whatever_the_umask(tmp_path, clock, umask):
    from ketalog.services.backups import restore_database, run_backup
    from tests.store.helpers import make_staff

    old = os.umask(umask)
    try:
        path = tmp_path / "new" / "clinic.sqlite"
        store = open_store(path, clock)
        staff = make_staff(store, clock)
        report, _ = run_backup(staff.admin, path, tmp_path / "new" / "backups", "manual")
        wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
        files = [path, wal, shm, report.path, tmp_path / "new" / "backups" / "clinic-anchors.log"]
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in files}
        store.close()
        clock.advance(minutes=1)
        restored, store = restore_database(report.path, path, clock, "admin")
        store.close()
        modes[path.name + " restored"] = stat.S_IMODE(path.stat().st_mode)
        modes["replaced copy"] = stat.S_IMODE(restored.replaced_copy.stat().st_mode)
        folders = {p.name: stat.S_IMODE(p.stat().st_mode)
                   for p in (tmp_path / "new", tmp_path / "new" / "backups")}
    finally:
        os.umask(old)
    assert set(modes.values()) == {0o600}, modes
    assert set(folders.values()) == {0o700}, folders
