"""What really happened when a file could not be opened or written: a full disk, a
read-only disk, missing permissions and a damaged file all surface from SQLite as a
handful of vague errors ("disk I/O error", "unable to open database file"). The folder is
examined before anything is called damaged, so restoring a backup (which would throw
away a healthy file's newest records) is only ever suggested for real damage."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from ketalog.store.errors import DiskFull, NoPermission, ReadOnlyDatabase, StoreError

# Below this much free space SQLite cannot create its -wal/-shm or grow the file.
MIN_FREE_BYTES = 256 * 1024


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def environment_problem(path: Path) -> StoreError | None:
    """The disk or the account, not the file, when that is what is wrong."""
    path = Path(path)
    folder = _existing(path.parent)
    try:
        fs = os.statvfs(folder)
    except OSError:
        return None
    if fs.f_flag & os.ST_RDONLY:
        return ReadOnlyDatabase(f"the disk holding {path} is read-only (mounted read-only), "
                                "so nothing can be saved; the file itself is not damaged")
    if path.exists() and not os.access(path, os.R_OK):
        return NoPermission(f"permission denied: this account may not read {path}; the file "
                            "is not damaged: ask your administrator to give this account "
                            "access")
    if (path.exists() and not os.access(path, os.W_OK)) or not os.access(folder, os.W_OK):
        return NoPermission(f"permission denied: this account may not write {path} or its "
                            "folder, so nothing can be saved; the file is not damaged: ask "
                            "your administrator to give this account access")
    if fs.f_bavail * fs.f_frsize < MIN_FREE_BYTES:
        return DiskFull(f"the disk holding {path} is full "
                        f"({fs.f_bavail * fs.f_frsize // 1024} KB free), so the database "
                        "cannot be opened or saved; the file is not damaged: free some space "
                        "and try again")
    return None


def from_os_error(path: Path, exc: OSError) -> StoreError:
    """An OSError from creating or copying files, in the same words."""
    if exc.errno == errno.ENOSPC:
        return DiskFull(f"the disk holding {path} is full; nothing was saved: free some "
                        "space and try again")
    if exc.errno == errno.EROFS:
        return ReadOnlyDatabase(f"the disk holding {path} is read-only; nothing was saved")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return NoPermission(f"permission denied for {exc.filename or path}: this account may "
                            "not use it; ask your administrator to give it access")
    return environment_problem(Path(path)) or StoreError(
        f"{path}: {exc.strerror or exc}")
