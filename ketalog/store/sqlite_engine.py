"""The SQLite engine: one local file through Python's sqlite3 (or SQLCipher's
connection, which raises the same exception classes; see engine.py). Everything that
depends on SQLite's dialect or its wording lives here or in the file-opening modules
(connection.py, engine.py, schema.py, backup.py), never in the entity modules."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlite_utils import Database

from ketalog.store.engine_api import Engine
from ketalog.store.errors import (
    Conflict,
    DatabaseClosed,
    RecordLocked,
    StoreError,
    register_driver_errors,
)
from ketalog.store.schema import LOCKED_MESSAGE
from ketalog.store.touched import Touched


def translate_error(exc: BaseException) -> StoreError:
    """Turn SQLite's wording into a message a clinic user can act on."""
    text = str(exc)
    if LOCKED_MESSAGE in text or "append-only" in text:
        return RecordLocked(text)
    if "UNIQUE constraint failed: patients.mrn" in text:
        return Conflict("a patient with this MRN already exists")
    if "UNIQUE constraint failed: users.username" in text:
        return Conflict("a user with this username already exists")
    if "UNIQUE constraint failed: protocols.name" in text:
        return Conflict("a protocol with this name already exists")
    if isinstance(exc, sqlite3.ProgrammingError) and "closed database" in text:
        return DatabaseClosed("the database was closed: nothing was read or saved")
    if "database is locked" in text or "database is busy" in text:
        return StoreError("the database is busy (another ketalog is writing); try again")
    if "database or disk is full" in text:
        return StoreError("the disk is full: nothing was saved; free some space and try again")
    if "readonly" in text or "read-only" in text:
        return StoreError("the database is read-only: nothing was saved")
    return StoreError(f"database error: {text}")


register_driver_errors((sqlite3.Error,), translate_error)


def sqlite_connection(engine: Engine) -> sqlite3.Connection:
    """The sqlite3 connection under a local file's engine, for what only SQLite does
    (its online backup API, WAL checkpoints); refused for any other engine."""
    if not isinstance(engine, SqliteEngine):
        raise StoreError(f"this needs a local SQLite file, not the {engine.name} engine")
    return engine.conn


class SqliteEngine:
    """An open SQLite (or SQLCipher) file in autocommit mode: the store issues
    BEGIN IMMEDIATE itself, so two writers queue on the file's lock instead of one
    failing at COMMIT."""

    name = "sqlite"
    errors: tuple[type[BaseException], ...] = (sqlite3.Error,)

    def __init__(self, conn: sqlite3.Connection, path: Path, *, encrypted: bool = False
                 ) -> None:
        self.conn = conn
        self.path = path
        self.encrypted = encrypted
        # sqlite-utils runs the migrations (schema.py); the store itself needs only conn.
        self.db = Database(conn, execute_plugins=False)

    def begin_write(self) -> Callable[[], str] | None:
        self.conn.execute("BEGIN IMMEDIATE")
        return None  # a local read of the head costs no round trip

    def commit(self, touched: Sequence[Touched]) -> None:
        """The file has no other workstations to tell what changed."""
        self.conn.execute("COMMIT")

    def send_later(self, sql: str, parameters: Sequence[object], /) -> object:
        return self.conn.execute(sql, parameters)  # a local statement costs no round trip

    def rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def insert(self, table: str, columns: Sequence[str], values: Sequence[object]
               ) -> dict[str, object]:
        cursor = self.conn.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))}) RETURNING *", list(values))
        names = [d[0] for d in cursor.description]
        row = cursor.fetchone()
        cursor.fetchall()  # the statement is complete only once its rows are read
        return dict(zip(names, row, strict=True))

    def lock_row(self, table: str, row_id: int) -> None:
        """BEGIN IMMEDIATE already holds the whole file against other writers."""

    def nocase(self, expression: str) -> str:
        return f"{expression} COLLATE NOCASE"

    def starts_with(self, expression: str) -> str:
        return f"{expression} LIKE ? ESCAPE '\\'"

    def table_columns(self) -> dict[str, list[str]]:
        return {name: [c[1] for c in self.conn.execute(f"PRAGMA table_info({name})")]
                for (name,) in self.conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'")}

    def column_defaults(self) -> dict[str, dict[str, object]]:
        found: dict[str, dict[str, object]] = {}
        for table in self.table_columns():
            found[table] = {
                name: None if default is None
                else self.conn.execute(f"SELECT {default}").fetchone()[0]
                for _, name, _, _, default, _ in self.conn.execute(f"PRAGMA table_info({table})")}
        return found

    def translate(self, exc: BaseException) -> StoreError:
        """SQLite's wording translated; its vaguer errors ("disk I/O error") are told
        apart by looking at the disk the file is on."""
        error = translate_error(exc)
        if type(error) is StoreError and str(error).startswith("database error"):
            from ketalog.store.diagnosis import environment_problem

            return environment_problem(self.path) or error
        return error

    def integrity_problems(self) -> list[str]:
        result = [r[0] for r in self.conn.execute("PRAGMA integrity_check")]
        return [] if result == ["ok"] else [f"integrity: {r}" for r in result]

    def quick_check_problems(self) -> list[str]:
        result = [str(r[0]) for r in self.conn.execute("PRAGMA quick_check")]
        return [] if result == ["ok"] else result

    def foreign_key_problems(self) -> list[str]:
        return [f"foreign key: {table} row {rowid} points to a missing {parent}"
                for table, rowid, parent, _ in self.conn.execute("PRAGMA foreign_key_check")]

    def trigger_names(self) -> set[str]:
        return {r[0] for r in self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'")}

    def cipher_problems(self) -> list[str]:
        if not self.encrypted:
            return []
        return [f"encryption: {r[0]}" for r in self.conn.execute(
            "PRAGMA cipher_integrity_check")]

    def close(self) -> None:
        self.conn.close()
