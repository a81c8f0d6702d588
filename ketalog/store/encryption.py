"""Converting a plain database to an encrypted one, in place and crash-safe.

The plain file is exported with SQLCipher's sqlcipher_export into a new file beside it,
which is verified (page HMACs, integrity, schema, audit chain, identical row counts)
before an atomic rename puts it in place. Only then is the plain original dealt with:
by default it is overwritten with zeros and removed, because a plain copy left beside
the encrypted one would defeat the point; `keep_plain` keeps it (for a clinic that wants
to compare first) under a name that says what it is.

sqlcipher_export needs SQLCipher to read the plain file: at that moment no sqlite3
handle on it is open in this process (the caller has closed its store), so the file is
still only ever held by one SQLite library at a time.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ketalog.store.backup import _fsync, _fsync_dir, check_copy, checkpoint_alone
from ketalog.store.engine import (
    CipherConnection,
    FileKind,
    check_passphrase_policy,
    cipher_module,
    classify,
)
from ketalog.store.errors import StoreError

WIPE_CHUNK = 1 << 20


@dataclass(frozen=True)
class EncryptReport:
    path: Path
    row_counts: dict[str, int]
    plain_copy: Path | None  # kept only when asked to


def encrypt_copy(source: Path, target: Path, passphrase: str) -> dict[str, int]:
    """sqlcipher_export of a plain ketalog file into a new encrypted file, verified."""
    expected = check_copy(source)
    if target.exists():
        raise StoreError(f"{target} already exists")
    dbapi2 = cipher_module()
    old_umask = os.umask(0o077)
    conn = CipherConnection(dbapi2.connect(str(source), isolation_level=None, timeout=5))
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute("ATTACH DATABASE ? AS encrypted KEY ?", [str(target), passphrase])
        conn.execute("SELECT sqlcipher_export('encrypted')")
        conn.execute("DETACH DATABASE encrypted")
    except sqlite3.Error as exc:
        target.unlink(missing_ok=True)
        raise StoreError(f"encryption failed, the database is unchanged: {exc}") from exc
    finally:
        conn.close()
        os.umask(old_umask)
    try:
        counts = check_copy(target, expected, passphrase)
        if classify(target) is not FileKind.ENCRYPTED:
            raise StoreError(f"{target} was written but is not encrypted")
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return counts


def encrypt_in_place(db_path: Path, passphrase: str, stamp: str,
                     keep_plain: bool = False) -> EncryptReport:
    """Replace the plain database at `db_path` by an encrypted copy (see module doc).
    Every ketalog on this file must be closed."""
    check_passphrase_policy(passphrase)
    kind = classify(db_path)
    if kind is FileKind.ENCRYPTED:
        raise StoreError(f"{db_path} is already encrypted")
    if kind is not FileKind.PLAIN:
        raise StoreError(f"{db_path} is not a ketalog database that can be encrypted")
    checkpoint_alone(db_path)
    staging = db_path.with_name(f"{db_path.name}.encrypting-{stamp}")
    counts = encrypt_copy(db_path, staging, passphrase)
    _fsync(staging)
    plain = db_path.with_name(f"{db_path.name}.plain-{stamp}")
    if keep_plain:
        try:
            os.link(db_path, plain)
        except OSError:
            shutil.copy2(db_path, plain)
    with db_path.open("r+b") as original:  # held open: wiped through it after the swap
        for suffix in ("-wal", "-shm"):  # empty after the checkpoint; never pair them
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)  # with the encrypted file
        os.replace(staging, db_path)  # atomic: the path is always a whole database
        _fsync_dir(db_path.parent)
        if not keep_plain:
            _zero(original)
    return EncryptReport(db_path, counts, plain if keep_plain else None)


def _zero(fh: BinaryIO) -> None:
    """Overwrite an open file with zeros and flush it to disk. On SSDs and copy-on-write
    or journalling file systems old blocks may survive; full-disk encryption covers
    those."""
    size = os.fstat(fh.fileno()).st_size
    fh.seek(0)
    done = 0
    while done < size:
        n = min(WIPE_CHUNK, size - done)
        fh.write(b"\0" * n)
        done += n
    fh.flush()
    os.fsync(fh.fileno())


def plain_copies(db_path: Path, backup_folder: Path) -> list[Path]:
    """Unencrypted copies of this database that remain after encrypting it: pre-migrate
    and replaced copies beside it, and plain backups. Listed for the admin to dispose of
    once encrypted backups exist off site; never deleted behind their back."""
    found: list[Path] = []
    candidates = [p for p in db_path.parent.glob(f"{db_path.name}.*")]
    if backup_folder.is_dir():
        candidates += [p for p in backup_folder.glob(f"{db_path.stem}-*.sqlite")]
    for path in sorted(set(candidates)):
        if path.is_file() and classify(path) is FileKind.PLAIN:
            found.append(path)
    return found

