"""What the store asks of a database engine, and nothing more.

`Store` and its `Writer` build every statement from the schema's table and column names
and run it through an `Engine`: transactions, the one insert whose new id is needed,
error wording, a row held for what is read next, the list of tables and their defaults,
and the checks `verify` runs. The local file's engine (`sqlite_engine.SqliteEngine`) and
the clinic server's (`pg_engine.PostgresEngine`) implement the same members.
Statements are written with `?` placeholders (qmark style); an engine whose
driver wants another style translates them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol

from ketalog.store.errors import StoreError
from ketalog.store.touched import Touched


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

    def begin_write(self) -> Callable[[], str] | None:
        """Start a write transaction holding the database's write lock (writers queue).
        An engine that reads the audit chain's head hash under the lock along with the
        transaction's start returns how to get it, read once the chain needs it (None
        when the chain must read it itself; GENESIS_HASH's text for an empty log is the
        chain's to supply, so "" means no entry yet). The server's engine may send the
        start itself with the transaction's first statement: what the lock refuses is
        then raised there."""

    def commit(self, touched: Sequence[Touched]) -> None:
        """Make the transaction durable; `touched` is what it changed (an engine shared
        by several workstations tells the others at this commit)."""

    def send_later(self, sql: str, parameters: Sequence[object], /) -> object:
        """Inside a write transaction: a statement whose result nobody reads (an audit
        entry). The engine may send it together with the transaction's next statement
        or its COMMIT, never after either, so every later read still sees it."""

    def rollback(self) -> None:
        """Undo the transaction in progress, if any."""

    def insert(self, table: str, columns: Sequence[str], values: Sequence[object]
               ) -> dict[str, object]:
        """Insert one row and return it as stored (its new id, the schema's defaults)
        from the same statement."""

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
