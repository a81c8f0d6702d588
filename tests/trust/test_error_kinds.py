"""Out of space, read-only, permission denied and damage are told apart, on real
filesystems (a small tmpfs, mounted as root); restoring a backup is suggested for damage
only, never over a healthy file whose disk is merely full."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from ketalog.cli import main
from ketalog.store.connection import open_store
from ketalog.store.errors import DamagedDatabase, DiskFull, NoPermission, ReadOnlyDatabase
from tests.store.helpers import make_staff

PASSWORD = "admin-password-1"


@pytest.fixture
def small_disk(tmp_path: Path):
    where = tmp_path / "disk"
    where.mkdir()
    if os.geteuid() != 0 or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(where)],
            capture_output=True).returncode != 0:
        pytest.skip("mounting a tmpfs needs root")
    yield where
    subprocess.run(["umount", "-l", str(where)], check=False)


def _clinic(folder: Path, clock) -> Path:
    path = folder / "clinic.sqlite"
    store = open_store(path, clock)
    make_staff(store, clock)
    store.close()
    return path


def _fill(folder: Path) -> None:
    subprocess.run(["dd", "if=/dev/zero", f"of={folder / 'filler'}", "bs=4k"],
                   capture_output=True)


def _cli(path: Path, *argv: str, capsys) -> str:
    assert main(["--db", str(path), *argv]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_a_full_disk_is_called_full_not_damaged(small_disk, clock, capsys, monkeypatch):
    path = _clinic(small_disk, clock)
    before = path.read_bytes()
    _fill(small_disk)
    monkeypatch.setenv("KETALOG_PASSWORD", PASSWORD)
    for argv in (["patients"], ["--user", "admin", "backup"],
                 ["--user", "admin", "user", "add", "x", "--role", "nurse"]):
        err = _cli(path, *argv, capsys=capsys)
        assert "full" in err and "not damaged" in err, err
        assert "damaged and" not in err and "restore" not in err, err
    with pytest.raises(DiskFull):
        open_store(path, clock)
    assert path.read_bytes() == before
    (small_disk / "filler").unlink()
    open_store(path, clock).close()  # space freed: opens as before


def test_a_read_only_disk_is_called_read_only(small_disk, clock, capsys):
    path = _clinic(small_disk, clock)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    err = _cli(path, "patients", capsys=capsys)
    assert "read-only" in err and "restore" not in err
    with pytest.raises(ReadOnlyDatabase):
        open_store(path, clock)


def test_damage_is_called_damage_and_a_backup_is_suggested(tmp_path, clock, capsys):
    path = _clinic(tmp_path, clock)
    with path.open("r+b") as fh:  # overwrite a b-tree page in the middle of the file
        fh.seek(4096 * 3)
        fh.write(os.urandom(4096))
    err = _cli(path, "patients", capsys=capsys)
    assert "damaged" in err and "backup" in err
    with pytest.raises(DamagedDatabase):
        open_store(path, clock)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file modes")
def test_permission_denied_is_called_permission_denied(tmp_path, clock, capsys):
    path = _clinic(tmp_path, clock)
    path.chmod(0o000)
    try:
        err = _cli(path, "patients", capsys=capsys)
        assert "permission denied" in err and "restore" not in err
        with pytest.raises(NoPermission):
            open_store(path, clock)
    finally:
        path.chmod(0o600)
