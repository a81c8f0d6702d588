"""Where ketalog keeps things: the user data folder (database), backups, logs, and the
bundled resources (which move when frozen by PyInstaller)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from platformdirs import user_data_path, user_log_path

APP = "ketalog"
DB_FILENAME = "ketalog.sqlite"
DB_ENV = "KETALOG_DB"  # a file path, or a clinic server's postgresql:// address


def data_dir() -> Path:
    return user_data_path(APP, appauthor=False)


def default_db_path() -> Path:
    env = os.environ.get(DB_ENV)
    return Path(env).expanduser() if env else data_dir() / DB_FILENAME


def backup_dir(db_path: Path | None = None) -> Path:
    """Backups sit beside the data folder by default; a clinic may configure another."""
    return (db_path.parent if db_path else data_dir()) / "backups"


def log_dir() -> Path:
    return user_log_path(APP, appauthor=False)


def resource_path(*parts: str) -> Path:
    """A file under resources/, whether running from source or from a frozen build."""
    base = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parent.parent))
    return base.joinpath("resources", *parts)
