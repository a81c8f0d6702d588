"""Where this workstation's records live, as chosen at the first start: the local file
in the user data folder, or a clinic server's address. Remembered in a small owner-only
settings file (`workstation.json` in the user data folder) and used by later starts;
--db and KETALOG_DB still override it."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ketalog.paths import DB_FILENAME, data_dir
from ketalog.services.errors import service_boundary

SETTINGS_FILENAME = "workstation.json"


@service_boundary
def settings_path() -> Path:
    return data_dir() / SETTINGS_FILENAME


@service_boundary
def local_file() -> Path:
    """The local database file in the user data folder ("This computer only")."""
    return data_dir() / DB_FILENAME


@service_boundary
def remembered_database() -> str | None:
    """The remembered choice: a file path or a server address; None when none was made
    (or the settings file cannot be read, which then asks again)."""
    try:
        data = json.loads(settings_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = data.get("database") if isinstance(data, dict) else None
    return value.strip() if isinstance(value, str) and value.strip() else None


@service_boundary
def remember_database(location: Path | str) -> Path:
    """Remember `location` for this workstation (written owner-only: a server address
    may hold a password). Returns the settings file."""
    target = settings_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"database": str(location)}, handle)
    os.chmod(temporary, 0o600)
    os.replace(temporary, target)
    return target


@service_boundary
def needs_choice(given: str) -> bool:
    """Whether the first start must ask where the records live: nothing given by --db or
    KETALOG_DB (`given` empty), nothing remembered, and no local database file yet."""
    if given.strip() or remembered_database() is not None:
        return False
    path = local_file()
    return not (path.exists() and path.stat().st_size)
