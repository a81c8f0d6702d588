"""Which SQLite library opens a file, and connections that raise sqlite3's exceptions
whichever library is underneath.

A plain file (header "SQLite format 3\\0") is only ever opened with Python's sqlite3; an
encrypted one (SQLCipher: the first 16 bytes are a random salt) only with sqlcipher3.
Two SQLite libraries in one process must never hold the same file: each keeps its own
POSIX locks, and closing one library's handle drops the other's locks.

sqlcipher3 raises its own exception classes, which `except sqlite3.Error` (ketalog's
store, sqlite-utils' internals) does not catch; `CipherConnection` translates them into
the sqlite3 classes of the same name, so the rest of the store is library-agnostic.
"""

from __future__ import annotations

import enum
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, cast

from ketalog.store.errors import EncryptionUnavailable, WrongPassphrase

SQLITE_HEADER = b"SQLite format 3\x00"
# None is autocommit, which the store needs: it opens its own write transactions.
IsolationLevel = Literal["DEFERRED", "EXCLUSIVE", "IMMEDIATE"] | None
MIN_PASSPHRASE_LENGTH = 12


class FileKind(enum.Enum):
    NEW = "new"                  # missing: ours to create
    EMPTY = "empty"              # 0 bytes: emptied, truncated or a placeholder, never ours
    PLAIN = "plain"              # an SQLite file
    DAMAGED = "damaged"          # an SQLite header with its magic string overwritten
    ENCRYPTED = "encrypted"      # page-sized and not SQLite: SQLCipher (or random pages)
    FOREIGN = "foreign"          # cannot be a database of either kind


def classify(path: Path) -> FileKind:
    """Decide from the first page alone, without any SQLite library touching the file.
    An encrypted file cannot be told from random bytes of page-sized length without the
    key, so ENCRYPTED means "encrypted, or not a ketalog database"."""
    if not path.exists():
        return FileKind.NEW
    size = path.stat().st_size
    if size == 0:
        return FileKind.EMPTY
    with path.open("rb") as fh:
        head = fh.read(100)
    if head[:16] == SQLITE_HEADER:
        return FileKind.PLAIN
    if len(head) == 100 and _looks_like_sqlite_header(head):
        return FileKind.DAMAGED
    if size >= 512 and size % 512 == 0:
        return FileKind.ENCRYPTED
    return FileKind.FOREIGN


def _looks_like_sqlite_header(head: bytes) -> bool:
    """Bytes 16-23 of a real SQLite header: a power-of-two page size, format versions 1
    or 2, and the fixed payload fractions 64/32/32. Random (encrypted) bytes match this
    with a chance of about 1 in 10^12."""
    page_size = int.from_bytes(head[16:18], "big")
    page_ok = page_size == 1 or (512 <= page_size <= 32768 and page_size & (page_size - 1) == 0)
    return (page_ok and head[18] in (1, 2) and head[19] in (1, 2)
            and head[21:24] == b"\x40\x20\x20")


def cipher_module() -> ModuleType:
    try:
        from sqlcipher3 import dbapi2
    except ImportError as exc:  # pragma: no cover - the wheel is a dependency
        raise EncryptionUnavailable(
            "this ketalog was installed without SQLCipher (the sqlcipher3 package), so it "
            f"cannot open or create encrypted databases: {exc}") from exc
    module: ModuleType = dbapi2
    return module


def _translate(exc: BaseException) -> sqlite3.Error:
    cls = getattr(sqlite3, type(exc).__name__, sqlite3.DatabaseError)
    if not (isinstance(cls, type) and issubclass(cls, sqlite3.Error)):
        cls = sqlite3.DatabaseError
    new = cls(*exc.args)
    for attr in ("sqlite_errorcode", "sqlite_errorname"):
        if hasattr(exc, attr):
            setattr(new, attr, getattr(exc, attr))
    return new


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except sqlite3.Error:
        raise
    except Exception as exc:
        if type(exc).__module__.startswith("sqlcipher3"):
            raise _translate(exc) from exc
        raise


class CipherCursor:
    """A sqlcipher3 cursor whose errors are sqlite3's."""

    def __init__(self, raw: Any, connection: CipherConnection) -> None:
        self._raw = raw
        self.connection = connection

    def execute(self, sql: str, params: Sequence[object] | dict[str, object] = ()
                ) -> CipherCursor:
        with _translated():
            self._raw.execute(sql, params)
        return self

    def executemany(self, sql: str, rows: Any) -> CipherCursor:
        with _translated():
            self._raw.executemany(sql, rows)
        return self

    def fetchone(self) -> Any:
        with _translated():
            return self._raw.fetchone()

    def fetchmany(self, size: int | None = None) -> list[Any]:
        with _translated():
            rows: list[Any] = (self._raw.fetchmany(size) if size is not None
                               else self._raw.fetchmany())
            return rows

    def fetchall(self) -> list[Any]:
        with _translated():
            rows: list[Any] = self._raw.fetchall()
            return rows

    def __iter__(self) -> CipherCursor:
        return self

    def __next__(self) -> Any:
        with _translated():
            return next(self._raw)

    def close(self) -> None:
        self._raw.close()

    @property
    def description(self) -> Any:
        return self._raw.description

    @property
    def lastrowid(self) -> int | None:
        row_id = self._raw.lastrowid
        return None if row_id is None else int(row_id)

    @property
    def rowcount(self) -> int:
        return int(self._raw.rowcount)


class CipherConnection:
    """The subset of sqlite3.Connection that ketalog and sqlite-utils use, over a keyed
    sqlcipher3 connection. Deliberately no attribute fall-through: anything not listed
    here fails loudly instead of leaking an untranslated error."""

    encrypted = True

    def __init__(self, raw: Any) -> None:
        self._raw = raw

    def execute(self, sql: str, params: Sequence[object] | dict[str, object] = ()
                ) -> CipherCursor:
        with _translated():
            return CipherCursor(self._raw.execute(sql, params), self)

    def executemany(self, sql: str, rows: Any) -> CipherCursor:
        with _translated():
            return CipherCursor(self._raw.executemany(sql, rows), self)

    def executescript(self, script: str) -> CipherCursor:
        with _translated():
            return CipherCursor(self._raw.executescript(script), self)

    def cursor(self) -> CipherCursor:
        return CipherCursor(self._raw.cursor(), self)

    def commit(self) -> None:
        with _translated():
            self._raw.commit()

    def rollback(self) -> None:
        with _translated():
            self._raw.rollback()

    def close(self) -> None:
        self._raw.close()

    def backup(self, target: object, *, pages: int = -1,
               progress: Callable[[int, int, int], object] | None = None,
               name: str = "main", sleep: float = 0.250) -> None:
        if not isinstance(target, CipherConnection):
            raise sqlite3.NotSupportedError(
                "an encrypted database can only be copied into another encrypted one")
        with _translated():
            self._raw.backup(target._raw, pages=pages, progress=progress, name=name,
                             sleep=sleep)

    def create_function(self, name: str, narg: int, func: Callable[..., object], *,
                        deterministic: bool = False) -> None:
        with _translated():
            self._raw.create_function(name, narg, func, deterministic=deterministic)

    def iterdump(self) -> Iterator[str]:
        lines: Iterator[str] = self._raw.iterdump()
        return lines

    def __enter__(self) -> CipherConnection:
        return self

    def __exit__(self, kind: object, value: object, tb: object) -> None:
        with _translated():
            self._raw.__exit__(kind, value, tb)

    @property
    def in_transaction(self) -> bool:
        return bool(self._raw.in_transaction)

    @property
    def isolation_level(self) -> str | None:
        level = self._raw.isolation_level
        return None if level is None else str(level)

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        self._raw.isolation_level = value

    @property
    def total_changes(self) -> int:
        return int(self._raw.total_changes)

    @property
    def row_factory(self) -> Any:
        return self._raw.row_factory

    @row_factory.setter
    def row_factory(self, value: Any) -> None:
        self._raw.row_factory = value


def is_encrypted(conn: object) -> bool:
    return isinstance(conn, CipherConnection)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def open_connection(path: Path, passphrase: str | None = None, *, readonly: bool = False,
                    timeout_s: float = 5.0, isolation_level: IsolationLevel = None,
                    immutable: bool = False) -> sqlite3.Connection:
    """A connection with the library the file needs: sqlite3 without a passphrase,
    sqlcipher3 (keyed, key checked) with one. A wrong key raises WrongPassphrase.
    `immutable` reads the file without creating -wal/-shm (read-only media)."""
    if immutable:
        readonly = True
    target = (f"file:{path}?immutable=1" if immutable
              else f"file:{path}?mode=ro" if readonly else str(path))
    if passphrase is None:
        return sqlite3.connect(target, uri=readonly, isolation_level=isolation_level,
                               timeout=timeout_s, check_same_thread=False)
    dbapi2 = cipher_module()
    raw = dbapi2.connect(target, uri=readonly, isolation_level=isolation_level,
                         timeout=timeout_s, check_same_thread=False)
    conn = CipherConnection(raw)
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")  # no decrypt errors on stderr
        conn.execute(f"PRAGMA key = {_quote(passphrase)}")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        conn.close()
        if "not a database" in str(exc):
            raise WrongPassphrase(
                f"the passphrase for {path.name} is wrong (or the file is not an encrypted "
                "ketalog database, or its first page is damaged)") from exc
        raise
    return cast(sqlite3.Connection, conn)


def check_passphrase_policy(passphrase: str) -> None:
    from ketalog.store.errors import StoreError

    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise StoreError(f"the passphrase must be at least {MIN_PASSPHRASE_LENGTH} characters "
                         "(a short sentence is easiest to remember)")
