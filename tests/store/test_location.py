"""A database on a network share is refused (SQLite locking does not work there)."""

from __future__ import annotations

from pathlib import Path

import pytest

import ketalog.store.connection as connection
from ketalog.store.errors import NetworkFilesystemError
from ketalog.store.location import network_location_reason

pytestmark = [pytest.mark.both_engines, pytest.mark.sqlite_only(
    "where the local file may be (a network share breaks SQLite's locking)")]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A real directory tree (the probe walks up to an existing directory)."""
    base = tmp_path.resolve()
    for sub in ("share/clinic", "share/local", "shared", "my share"):
        (base / sub).mkdir(parents=True)
    return base


def mounts(*entries: tuple[str, str]) -> str:
    return "".join(f"dev{i} {point.replace(' ', chr(92) + '040')} {fs} rw,relatime 0 0\n"
                   for i, (point, fs) in enumerate(entries))


@pytest.mark.parametrize("fs_type", ["nfs4", "cifs"])
def test_network_mount_is_reported_with_its_type(root, fs_type):
    text = mounts(("/", "ext4"), (f"{root}/share", fs_type))
    reason = network_location_reason(root / "share" / "clinic" / "k.db", text)
    assert reason is not None
    assert fs_type in reason and "network" in reason


def test_local_disk_is_fine(root):
    text = mounts(("/", "ext4"), (str(root), "ext4"))
    assert network_location_reason(root / "share" / "clinic" / "k.db", text) is None


def test_longest_mount_point_wins(root):
    text = mounts((f"{root}/share", "cifs"), ("/", "ext4"))
    assert "cifs" in network_location_reason(root / "share" / "k.db", text)
    assert network_location_reason(root / "k.db", text) is None
    # a local disk mounted inside the share
    nested = mounts(("/", "ext4"), (f"{root}/share", "cifs"), (f"{root}/share/local", "ext4"))
    assert network_location_reason(root / "share" / "local" / "k.db", nested) is None
    assert "cifs" in network_location_reason(root / "share" / "clinic" / "k.db", nested)


def test_mount_point_prefix_is_not_a_match(root):
    text = mounts(("/", "ext4"), (f"{root}/share", "nfs"))
    assert network_location_reason(root / "shared" / "k.db", text) is None


def test_escaped_mount_point_with_space(root):
    text = mounts(("/", "ext4"), (f"{root}/my share", "smb3"))
    assert "smb3" in network_location_reason(root / "my share" / "k.db", text)


@pytest.mark.parametrize("unc", ["\\\\server\\share\\k.db", "//server/share/k.db"])
def test_unc_paths_are_network(unc):
    reason = network_location_reason(Path(unc), mounts(("/", "ext4")))
    assert reason is not None and "UNC" in reason


def test_open_store_refuses_a_network_mount(root, clock, monkeypatch):
    text = mounts(("/", "ext4"), (f"{root}/share", "nfs4"))
    monkeypatch.setattr(connection, "network_location_reason",
                        lambda path: network_location_reason(path, text))
    target = root / "share" / "clinic" / "k.db"
    with pytest.raises(NetworkFilesystemError) as info:
        connection.open_store(target, clock)
    message = str(info.value)
    assert "local disk" in message and "nfs4" in message
    assert not target.exists()  # refused before anything was created
    # the same call on a local path works
    connection.open_store(root / "k.db", clock).close()
