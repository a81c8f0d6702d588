"""Files holding patient data are the owner's only (0600, folders 0700), whatever the
umask: each is created empty with those bits before SQLite or a writer opens it (SQLite
gives -wal/-shm the database file's mode). On Windows the modes do not apply and the
files inherit the ACLs of their folder (the user profile's by default)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(path: Path) -> Path:
    """Create a missing folder (and parents) 0700; an existing one is left as it is (a
    clinic's own folder, e.g. a mounted backup drive, keeps the modes it was given)."""
    path = Path(path)
    missing: list[Path] = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=FOLDER_MODE)
        os.chmod(folder, FOLDER_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty and owner-only (or make an existing one owner-only)."""
    path = Path(path)
    private_folder(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    os.close(fd)
    os.chmod(path, FILE_MODE)
    return path


def make_private(*paths: Path) -> None:
    """Tighten files that exist (a -wal/-shm made before this ketalog set modes)."""
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.chmod(path, FILE_MODE)
