"""Automatic and manual backups: verified, rotated, audited; only our files deleted."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ketalog.domain.errors import PlausibilityError
from ketalog.services.backups import (
    backup_due,
    backup_every_hours,
    backup_folder,
    list_backups,
    preview_backup,
    run_backup,
    set_backup_settings,
)
from ketalog.services.errors import PermissionDenied

pytestmark = pytest.mark.both_engines


@pytest.mark.sqlite_only("SQLite backup files in the folder beside the local file; a clinic server's backups are the administrator's pg_dump")
def test_backups_rotate_and_leave_other_files_alone(staffed, clock, tmp_path):
    store, ctx = staffed
    folder = tmp_path / "backups"
    folder.mkdir(exist_ok=True)  # the anchor log may have made it
    (folder / "notes.txt").write_text("clinic's own file")
    (folder / "other-20200101-000000.sqlite").write_text("another database's backup")
    for _ in range(40):  # 40 days of nightly backups
        run_backup(ctx["nurse"], store.path, folder, "on close")
        clock.advance(days=1)
    kept = list_backups(folder, store.path)
    assert 7 <= len(kept) <= 7 + 4 + 12
    assert (folder / "notes.txt").exists() and (folder / "other-20200101-000000.sqlite").exists()
    preview = preview_backup(kept[0].path)
    assert preview.taken_at == kept[0].taken_at and preview.size_bytes > 0
    events = [r for r in store.audit_rows() if r["action"] == "backup"]
    assert len(events) == 40 and "rotated_out" in str(events[-1]["new_values"])


@pytest.mark.sqlite_only("SQLite backup files beside the local file; a clinic server's backups are the administrator's pg_dump")
def test_manual_backup_is_for_admins_and_settings_are_checked(staffed, clock, tmp_path):
    store, ctx = staffed
    with pytest.raises(PermissionDenied):
        run_backup(ctx["nurse"], store.path, tmp_path, "manual")
    run_backup(ctx["admin"], store.path, tmp_path, "manual")
    assert backup_folder(store, tmp_path / "default") == tmp_path / "default"
    assert backup_every_hours(store) == 24.0
    with pytest.raises(PermissionDenied):
        set_backup_settings(ctx["nurse"], str(tmp_path / "usb"), 4)
    with pytest.raises(PlausibilityError, match="0 .only on close. to 168"):
        set_backup_settings(ctx["admin"], str(tmp_path / "usb"), 500)
    set_backup_settings(ctx["admin"], str(tmp_path / "usb"), 4)
    assert backup_folder(store, tmp_path) == tmp_path / "usb"
    assert backup_due(ctx["nurse"], tmp_path / "usb", store.path)  # none there yet
    run_backup(ctx["nurse"], store.path, tmp_path / "usb", "scheduled")
    assert not backup_due(ctx["nurse"], tmp_path / "usb", store.path)
    clock.advance(hours=4, seconds=1)
    assert backup_due(ctx["nurse"], tmp_path / "usb", store.path)
    set_backup_settings(ctx["admin"], str(tmp_path / "usb"), 0)
    assert not backup_due(ctx["nurse"], tmp_path / "usb", store.path)  # only on close
    assert clock.now() - list_backups(tmp_path / "usb", store.path)[0].taken_at < timedelta(
        hours=5)
