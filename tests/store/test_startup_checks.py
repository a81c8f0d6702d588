"""Start-up checks: a damaged header, a damaged page, a random file and a file from a
newer ketalog are refused untouched with a clear message; the newest verified backup is
found and restored, authorised by an admin of that backup, audited in the restored file,
the damaged file kept aside byte for byte."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ketalog.cli import main
from ketalog.domain.clock import FixedClock
from ketalog.services.backups import run_backup
from ketalog.services.errors import LoginFailed, PermissionDenied
from ketalog.services.recovery import candidates, newest_usable, restore_at_startup
from ketalog.store.connection import open_store
from ketalog.store.errors import (
    CannotOpen,
    DamagedDatabase,
    NewerSchema,
    NotKetalogDatabase,
    PassphraseRequired,
)
from ketalog.store.verify import verify_store

from .helpers import ADMIN_PW, NURSE_PW, build_signed_session

pytestmark = [pytest.mark.both_engines, pytest.mark.sqlite_only(
    "damaged pages and headers of the local file and its backups")]

PAGE = 4096


@pytest.fixture
def clinic(tmp_path):
    """A signed session in a database with one verified backup (and one older, broken
    backup file that must be skipped). Returns (db path, backup path, clock)."""
    clock = FixedClock(datetime(2026, 11, 24, 14, 0, tzinfo=UTC))
    path = tmp_path / "clinic.sqlite"
    store = open_store(path, clock)
    signed = build_signed_session(store, clock)
    folder = tmp_path / "backups"
    folder.mkdir(exist_ok=True)  # the anchor log may have made it
    (folder / "clinic-20261101-120000.sqlite").write_bytes(b"truncated copy")
    clock.advance(minutes=1)
    report, _ = run_backup(signed.staff.admin, path, folder, "manual")
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path, report.path, clock


def damage_header(path: Path) -> None:
    with path.open("r+b") as fh:
        fh.write(b"\0" * 16)


def damage_table(path: Path, table: str) -> None:
    """Overwrite every page of a table's b-tree root with garbage."""
    conn = sqlite3.connect(str(path))
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", [table]).fetchone()[0]
    conn.close()
    with path.open("r+b") as fh:
        fh.seek((root - 1) * PAGE)
        fh.write(bytes((i * 37) % 251 for i in range(PAGE)))


@pytest.mark.parametrize("damage", ["header", "page"])
def test_damage_is_detected_untouched_and_the_backup_restores(clinic, damage):
    path, backup, clock = clinic
    if damage == "header":
        damage_header(path)
    else:
        damage_table(path, "vitals")
    damaged = path.read_bytes()
    with pytest.raises(DamagedDatabase) as info:
        open_store(path, clock)
    assert str(path) in str(info.value) and "Traceback" not in str(info.value)
    assert path.read_bytes() == damaged  # refused before anything was written
    assert not Path(f"{path}-wal").exists()

    best = newest_usable(path.parent / "backups", path)
    assert best is not None and best.path == backup and best.verified
    assert [c.verified for c in candidates(path.parent / "backups", path)] == [True, False]

    for username, password, error in [("admin", "wrong password", LoginFailed),
                                      ("nina", NURSE_PW, PermissionDenied)]:
        with pytest.raises(error):
            restore_at_startup(backup, path, clock, username, password, "damaged")
        assert path.read_bytes() == damaged  # nothing replaced

    report, store = restore_at_startup(backup, path, clock, "admin", ADMIN_PW,
                                       str(info.value))
    try:
        assert verify_store(store) == []
        assert store.count("vitals") == 2
        last = store.audit_rows()[-1]
        assert last["action"] == "restore" and last["username"] == "admin"
        details = json.loads(str(last["new_values"]))
        assert details["at_startup"] is True and "damaged" in details["problem"]
    finally:
        store.close()
    assert report.replaced_copy is not None
    assert report.replaced_copy.read_bytes() == damaged  # kept for investigation


def test_random_files_and_newer_schemas_are_refused_clearly(tmp_path, clinic):
    path, _, clock = clinic
    text = tmp_path / "letter.sqlite"
    text.write_bytes(os.urandom(5000))
    with pytest.raises(NotKetalogDatabase, match="not a ketalog database"):
        open_store(text, clock)
    pages = tmp_path / "pages.sqlite"
    pages.write_bytes(os.urandom(2 * PAGE))  # cannot be told from an encrypted file
    with pytest.raises(PassphraseRequired, match="encrypted \\(or it is not a ketalog"):
        open_store(pages, clock)

    newer = tmp_path / "newer.sqlite"
    shutil.copy(path, newer)
    conn = sqlite3.connect(str(newer))
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                 "VALUES ('ketalog', 'm099_from_the_future', '2027-01-01')")
    conn.commit()
    conn.close()
    before = newer.read_bytes()
    with pytest.raises(NewerSchema, match="newer version of ketalog.*m099_from_the_future"):
        open_store(newer, clock)
    assert newer.read_bytes() == before
    assert issubclass(NewerSchema, CannotOpen)


def test_cli_names_the_newest_backup_in_one_line_and_restores_from_it(clinic, monkeypatch,
                                                                       capsys):
    path, backup, clock = clinic
    damage_table(path, "audit_log")
    assert main(["--db", str(path), "verify"], clock) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "damaged" in err and str(backup) in err and "restore" in err

    monkeypatch.setenv("KETALOG_PASSWORD", ADMIN_PW)
    assert main(["--db", str(path), "--user", "admin", "restore", str(backup)], clock) == 0
    assert "checking the admin against the backup" in capsys.readouterr().err
    assert main(["--db", str(path), "verify"], clock) == 0
