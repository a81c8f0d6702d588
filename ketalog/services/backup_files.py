"""Where a database's backups live and which files in that folder are ours: shared by
the backups (which write and rotate them) and the anchors (which read the heads inside
them), so that neither has to import the other to find them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ketalog.services.errors import service_boundary
from ketalog.store import settings as stored
from ketalog.store.store import Store

FOLDER_SETTING = "backup_folder"
ANCHOR_FOLDER_SETTING = "anchor_folder"  # services/anchors.py; "" = the backup folder
STAMP = "%Y%m%d-%H%M%S"


@dataclass(frozen=True)
class BackupFile:
    path: Path
    taken_at: datetime
    size_bytes: int


@service_boundary
def backup_folder(store: Store, default: Path) -> Path:
    folder = stored.text(store, FOLDER_SETTING)
    return Path(folder).expanduser() if folder else default


def _pattern(stem: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(stem)}-(\d{{8}}-\d{{6}})\.sqlite$")


@service_boundary
def list_backups(folder: Path, db_path: Path) -> list[BackupFile]:
    """Our backups of this database in `folder`, newest first."""
    pattern = _pattern(db_path.stem)
    found: list[BackupFile] = []
    if not folder.is_dir():
        return found
    for path in folder.iterdir():
        match = pattern.match(path.name)
        if match and path.is_file():
            taken = datetime.strptime(match.group(1), STAMP).replace(tzinfo=UTC)
            found.append(BackupFile(path, taken, path.stat().st_size))
    return sorted(found, key=lambda b: b.taken_at, reverse=True)
