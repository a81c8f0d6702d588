"""What the store asks of a database engine, and nothing more.

`Store` and its `Writer` build every statement from the schema's table and column names
and run it through an `Engine`: transactions, the one insert whose new id is needed,
error wording, a row held for what is read next, the list of tables and their defaults,
and the checks `verify` runs. The local file's engine (`sqlite_engine.SqliteEngine`) and
the clinic server's (`pg_engine.PostgresEngine`) implement the same members. Statements are written with `?` placeholders (qmark style); an engine whose
driver wants another style translates them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol

from ketalog.store.errors import StoreError


class Cursor(Protocol):
    """The DB-API cursor subset the store reads results through."""

    @property
    def description(self) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """The DB-API connection subset the store's own modules run their queries on."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Any: ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Any: ...

    def close(self) -> None: ...


class Engine(Protocol):
    """One open database, as the store needs it."""

    name: str
    #: The driver's exception classes: anything else raised inside a write is not the
    #: database's doing and leaves as it came (after the rollback).
    errors: tuple[type[BaseException], ...]

    @property
    def conn(self) -> Connection:
        """The connection the store and its modules run their statements on."""

    def begin_write(self) -> str | None:
        """Start a write transaction holding the database's write lock (writers queue).
        An engine that can read the audit chain's head hash under the lock in the same
        round trip returns it (None when the chain must read it itself; GENESIS_HASH's
        text for an empty log is the chain's to supply, so "" means no entry yet)."""

    def commit(self) -> None:
        """Make the transaction durable."""

    def rollback(self) -> None:
        """Undo the transaction in progress, if any."""

    def insert(self, table: str, columns: Sequence[str], values: Sequence[object]) -> int:
        """Insert one row and return its new id."""

    def lock_row(self, table: str, row_id: int) -> None:
        """Inside a write transaction: hold the row against every other connection's
        change until the commit, before reading what depends on it (a session's content
        before its signature). Where the write lock already keeps every other writer out
        (the local file's) there is nothing more to do."""

    def nocase(self, expression: str) -> str:
        """`expression` compared and sorted without regard to case, in a form the engine's
        case-insensitive indexes serve (names of patients, locations)."""

    def starts_with(self, expression: str) -> str:
        """A condition: `expression` begins with the parameter's text (given with `%`,
        `_` and `\\` escaped by a backslash, then `%`), ignoring ASCII case as SQLite's
        LIKE does."""

    def table_columns(self) -> dict[str, list[str]]:
        """Every table with its columns in order."""

    def column_defaults(self) -> dict[str, dict[str, object]]:
        """Every table's columns with the value each gets when an insert leaves it out
        (None: no default), for verify's replay of the audit history."""

    def translate(self, exc: BaseException) -> StoreError:
        """The driver's error in words a clinic user can act on."""

    def integrity_problems(self) -> list[str]:
        """The engine's own page and index checks; empty when sound."""

    def quick_check_problems(self) -> list[str]:
        """The fast structural check run at start-up, in the engine's own words."""

    def foreign_key_problems(self) -> list[str]:
        """Rows whose foreign keys point at nothing."""

    def trigger_names(self) -> set[str]:
        """The protective triggers present (verify checks none was dropped)."""

    def cipher_problems(self) -> list[str]:
        """Per-page authentication of an encrypted database; empty for a plain one."""

    def close(self) -> None:
        """Release the connection."""
