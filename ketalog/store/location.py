"""Where a database may live. SQLite's locking does not work on network file systems,
so a file there is refused with a message saying what to do instead."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

NETWORK_FS_TYPES = frozenset({
    "nfs", "nfs4", "cifs", "smbfs", "smb3", "ncpfs", "afs", "coda", "9p", "fuse.sshfs",
    "sshfs", "davfs", "fuse.davfs2", "glusterfs", "fuse.glusterfs", "ceph", "fuse.rclone",
    "fuse.s3fs", "lustre", "gpfs", "ocfs2", "gfs2",
})


_SERVER_URI = re.compile(r"^postgres(ql)?://", re.IGNORECASE)


def is_server_address(target: object) -> bool:
    """A clinic server's PostgreSQL address (a libpq URI, or a key=value string naming a
    dbname) rather than a file path."""
    text = str(target).strip()
    return bool(_SERVER_URI.match(text)) or (
        "dbname=" in text and "=" in text.split()[0])


def _unescape_mount(path: str) -> str:
    # /proc/mounts escapes spaces and tabs as octal.
    return path.replace("\\040", " ").replace("\\011", "\t").replace("\\134", "\\")


def filesystem_type(path: Path, mounts_text: str | None = None) -> str | None:
    """File-system type of the mount holding `path` (Linux), or None if unknown."""
    if mounts_text is None:
        try:
            mounts_text = Path("/proc/mounts").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
    target = str(path)
    best, best_type = "", None
    for line in mounts_text.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        mount_point, fs_type = _unescape_mount(parts[1]), parts[2]
        prefix = mount_point.rstrip("/") + "/"
        if (target == mount_point or target.startswith(prefix) or mount_point == "/") and len(
            mount_point
        ) >= len(best):
            best, best_type = mount_point, fs_type
    return best_type


def network_location_reason(path: Path, mounts_text: str | None = None) -> str | None:
    """Why `path` looks like a network location, or None if it looks local."""
    text = str(path)
    if text.startswith("\\\\") or text.startswith("//"):
        return f"{text} is a network (UNC) path"
    resolved = Path(os.path.abspath(path))
    probe = resolved if resolved.exists() else resolved.parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if sys.platform.startswith("linux") or mounts_text is not None:
        fs_type = filesystem_type(probe.resolve(), mounts_text)
        if fs_type and fs_type.lower() in NETWORK_FS_TYPES:
            return f"{probe} is on a network file system ({fs_type})"
    return None
