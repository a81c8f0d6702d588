"""The clinic-server engine: a PostgreSQL database shared by a clinic's workstations,
through psycopg 3. It implements `engine_api.Engine` beside the SQLite file's engine, so
`Store`, `Writer` and every entity module run on it unchanged.

- Statements arrive in the store's qmark style (`?`); `qmark_to_pyformat` rewrites them
  for psycopg once per statement text (`%` doubled, `?` outside quoted text to `%s`).
- A write transaction takes one transaction-scoped advisory lock before anything else,
  so audit appends from several workstations are serialised and the hash chain stays a
  chain; readers never wait for it. A writer waits for it, and for any row lock inside
  the transaction, at most `write_wait_ms` (as long as the file waits for its lock), then
  is told the server is busy.
- `lock_row` holds a row (`SELECT ... FOR UPDATE`) against changes from connections
  that do not take the write lock (the lock triggers read the session row FOR SHARE),
  so a session's content hash is taken from rows nobody can add to before the commit.
- The server's own wording (SQLSTATE classes, constraint names, the triggers' messages,
  which are SQLite's, see pg_schema.py) is translated into the same sentences the file
  gives.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.pq import ExecStatus, TransactionStatus

from ketalog.store import pg_changes  # change notifications to the other workstations
from ketalog.store.errors import (
    Conflict,
    DatabaseClosed,
    DiskFull,
    ReadOnlyDatabase,
    RecordLocked,
    StoreError,
    register_driver_errors,
)
from ketalog.store.pg_schema import NOCASE
from ketalog.store.schema import LOCKED_MESSAGE
from ketalog.store.touched import Touched

# pg_advisory_xact_lock key held by every write transaction: "ketalog write" in ASCII.
WRITE_LOCK = 0x6B6C_7772_6974_65
# How long a writer waits for the write lock, and for each locked row after it, before
# it is told the server is busy (twice the file's busy timeout: a write transaction on
# the server is short, but eight workstations and the monitor feed queue for its lock).
WRITE_WAIT_MS = 10_000
# Constraint names PostgreSQL gives the UNIQUE columns whose duplicates users can cause.
_UNIQUE_WORDS = {
    "patients_mrn_key": "a patient with this MRN already exists",
    "users_username_key": "a user with this username already exists",
    "protocols_name_key": "a protocol with this name already exists",
}


@functools.lru_cache(maxsize=4096)
def qmark_to_pyformat(sql: str) -> str:
    """`?` placeholders (outside quoted text and identifiers) as psycopg's `%s`, and every
    literal `%` doubled, which psycopg otherwise reads as a placeholder even in quotes."""
    out: list[str] = []
    quote = ""
    for ch in sql:
        if quote:
            out.append("%%" if ch == "%" else ch)
            if ch == quote:
                quote = ""
        elif ch in ("'", '"'):
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append("%s")
        elif ch == "%":
            out.append("%%")
        else:
            out.append(ch)
    return "".join(out)


def _text_safe(parameters: Sequence[Any]) -> list[Any]:
    """PostgreSQL text cannot hold NUL, which SQLite stores: a NUL in a text parameter
    (only ever from a device's raw bytes: the quarantine keeps what a monitor sent) is
    stored as U+FFFD, the replacement character, instead of failing the whole write."""
    return [p.replace("\x00", "\ufffd") if isinstance(p, str) and "\x00" in p else p
            for p in parameters]


class PgCursor:
    """A psycopg cursor read the way the store reads sqlite3's."""

    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        self._cursor = cursor

    @property
    def description(self) -> Any:
        """Column names as sqlite3 gives them ((name, None, ...)); psycopg's own builds
        a typed column object per column on every read, a cost the store's reads of
        whole rows pay on every statement."""
        result = self._cursor.pgresult
        if result is None or result.status != ExecStatus.TUPLES_OK:
            return None
        return tuple((bytes(result.fname(i) or b"").decode(), None, None, None, None, None,
                      None) for i in range(result.nfields))

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    def _has_rows(self) -> bool:
        result = self._cursor.pgresult
        return result is not None and result.status == ExecStatus.TUPLES_OK

    def fetchone(self) -> Any:
        return self._cursor.fetchone() if self._has_rows() else None

    def fetchall(self) -> list[Any]:
        return self._cursor.fetchall() if self._has_rows() else []

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


class Waiting:
    """A queued statement's result, readable once the statement was sent."""

    cursor: PgCursor | None = None

    def fetchone(self) -> Any:
        if self.cursor is None:
            raise StoreError("a queued statement's result was read before it was sent")
        return self.cursor.fetchone()


class PgConnection:
    """psycopg's connection with the store's qmark statements (the DB-API subset in
    engine_api.Connection)."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.raw = conn
        # statements sent in one pipeline with the next statement or the COMMIT, in
        # order: the start of a write transaction, audit entries
        self.later: list[tuple[str, list[Any], Waiting | None]] = []

    def _run(self, sql: str, params: list[Any]) -> psycopg.Cursor[Any]:
        if params:
            return self.raw.execute(qmark_to_pyformat(sql), params)
        # without parameters psycopg sends the text as it is: `%` stays a literal
        return self.raw.execute(sql)

    def send_later(self, sql: str, parameters: Sequence[Any], keep: bool = False
                   ) -> Waiting:
        """Queue a statement; with `keep` its result can be read once it was sent."""
        waiting = Waiting()
        self.later.append((sql, _text_safe(parameters), waiting if keep else None))
        return waiting

    def flush(self) -> None:
        """What waits to be sent, now (a pipeline: one round trip for all of it)."""
        if self.later:
            with self.raw.pipeline():
                self._send_waiting()

    def _send_waiting(self) -> None:
        waiting, self.later = self.later, []
        for sql, params, result in waiting:
            cursor = self._run(sql, params)
            if result is not None:
                result.cursor = PgCursor(cursor)

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> PgCursor:
        params = _text_safe(parameters)
        if not self.later:
            return PgCursor(self._run(sql, params))
        with self.raw.pipeline():  # what waits, then this, in one round trip
            self._send_waiting()
            cursor = self._run(sql, params)
        return PgCursor(cursor)

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> None:
        self.flush()
        with self.raw.cursor() as cursor:
            cursor.executemany(qmark_to_pyformat(sql), [_text_safe(p) for p in parameters])

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != TransactionStatus.IDLE

    def close(self) -> None:
        self.raw.close()


def translate_error(exc: BaseException) -> StoreError:
    """The server's refusal in the words the local file uses for the same case."""
    text = str(exc).strip()
    if isinstance(exc, pg_errors.UniqueViolation):
        constraint = exc.diag.constraint_name or ""
        return Conflict(_UNIQUE_WORDS.get(constraint, f"that is already recorded ({text})"))
    if LOCKED_MESSAGE in text or "append-only" in text:
        return RecordLocked(exc.diag.message_primary or text
                            if isinstance(exc, psycopg.Error) else text)
    if isinstance(exc, pg_errors.InsufficientPrivilege):
        return RecordLocked(f"the clinic server refused the change: {text}")
    if isinstance(exc, pg_errors.LockNotAvailable | pg_errors.SerializationFailure
                  | pg_errors.DeadlockDetected | pg_errors.QueryCanceled):
        return StoreError("the clinic server is busy (another workstation is writing); "
                          "try again")
    if isinstance(exc, pg_errors.DiskFull):
        return DiskFull("the clinic server's disk is full: nothing was saved; "
                        "ask the administrator to free space")
    if isinstance(exc, pg_errors.ReadOnlySqlTransaction):
        return ReadOnlyDatabase("the clinic server is read-only (a standby, or in "
                                "recovery): nothing was saved")
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        if "closed" in text:
            return DatabaseClosed("the database was closed: nothing was read or saved")
        return StoreError(f"the clinic server cannot be reached: {text}; nothing was saved")
    return StoreError(f"database error: {text}")


register_driver_errors((psycopg.Error,), translate_error)


class PostgresEngine:
    """One workstation's connection to the clinic server, in autocommit mode: the store
    opens its write transactions itself, and each read outside one sees the latest
    committed rows of every workstation."""

    name = "postgresql"
    errors: tuple[type[BaseException], ...] = (psycopg.Error,)
    encrypted = False  # encryption at rest is the server's disk's (docs/server.md)

    def __init__(self, conn: psycopg.Connection[Any], location: str) -> None:
        if not conn.autocommit:
            conn.autocommit = True
        self.conn = PgConnection(conn)
        self.location = location

    write_wait_ms = WRITE_WAIT_MS

    def begin_write(self) -> Callable[[], str]:
        """BEGIN, the write lock and the chain's head, sent with the transaction's first
        statement (one round trip for all of them): each runs with its own snapshot (READ
        COMMITTED), so the head is read after the lock was granted and is the one this
        write follows. The lock, and any row lock after it, is waited for
        `write_wait_ms`; a writer still held up is told the server is busy (the error
        arrives with that first statement), with nothing left open."""
        conn = self.conn
        conn.send_later("BEGIN", ())
        conn.send_later(f"SET LOCAL lock_timeout = '{int(self.write_wait_ms)}ms'", ())
        conn.send_later(f"SELECT pg_advisory_xact_lock({int(WRITE_LOCK)})", ())
        head = conn.send_later("SELECT id, entry_hash FROM audit_log ORDER BY id DESC LIMIT 1",
                               (), keep=True)

        def head_hash() -> str:
            conn.flush()
            row = head.fetchone()
            return "" if row is None else str(row[1])

        return head_hash

    def lock_row(self, table: str, row_id: int) -> None:
        self.conn.execute(f"SELECT id FROM {table} WHERE id = ? FOR UPDATE", [row_id])

    def send_later(self, sql: str, parameters: Sequence[object], /) -> None:
        self.conn.send_later(sql, parameters)

    def commit(self, touched: Sequence[Touched]) -> None:
        """The audit entries still waiting, the change notification (delivered only if
        this commits) and the COMMIT, in one round trip."""
        raw = self.conn.raw
        text = pg_changes.payload(touched, raw.info.parameter_status("application_name")
                                  or "")
        with raw.pipeline():
            self.conn._send_waiting()
            if text is not None:
                raw.execute("SELECT pg_notify(%s, %s)", [pg_changes.CHANNEL, text])
            raw.execute("COMMIT")

    def rollback(self) -> None:
        self.conn.later = []
        if self.conn.in_transaction:
            self.conn.raw.execute("ROLLBACK")

    def insert(self, table: str, columns: Sequence[str], values: Sequence[object]
               ) -> dict[str, object]:
        cursor = self.conn.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))}) RETURNING *", list(values))
        names = [d[0] for d in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))

    def nocase(self, expression: str) -> str:
        return f"{expression} COLLATE {NOCASE}"

    def starts_with(self, expression: str) -> str:
        # ILIKE under the database's C locale folds ASCII letters only, as SQLite's LIKE
        return f"{expression} ILIKE ? ESCAPE '\\'"

    def table_columns(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for table, column in self.conn.raw.execute(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"):
            found.setdefault(str(table), []).append(str(column))
        return found

    def column_defaults(self) -> dict[str, dict[str, object]]:
        """The schema's defaults are plain literals (pg_schema.py), evaluated as the
        server stores them; an identity column (`id`) has none to replay."""
        found: dict[str, dict[str, object]] = {}
        for table, column, default, identity in self.conn.raw.execute(
                "SELECT table_name, column_name, column_default, is_identity "
                "FROM information_schema.columns WHERE table_schema = current_schema() "
                "ORDER BY table_name, ordinal_position"):
            value: object = None
            if default is not None and identity != "YES" and "nextval(" not in default:
                row = self.conn.raw.execute(f"SELECT {default}").fetchone()
                value = None if row is None else row[0]
                if isinstance(value, Decimal):
                    value = float(value)
            found.setdefault(str(table), {})[str(column)] = value
        return found

    def translate(self, exc: BaseException) -> StoreError:
        return translate_error(exc)

    def integrity_problems(self) -> list[str]:
        """Pages are the server's to check (initdb --data-checksums, pg_amcheck); from a
        workstation, a read of every protected table's row count proves they can be read."""
        problems: list[str] = []
        for table in self.table_columns():
            try:
                self.conn.raw.execute(f"SELECT count(*) FROM {table}").fetchone()
            except psycopg.Error as exc:
                problems.append(f"integrity: {table} cannot be read ({exc})")
        return problems

    def quick_check_problems(self) -> list[str]:
        try:
            self.conn.raw.execute("SELECT 1").fetchone()
        except psycopg.Error as exc:
            return [f"the clinic server does not answer: {exc}"]
        return []

    def foreign_key_problems(self) -> list[str]:
        """PostgreSQL checks every foreign key on every write and cannot be told not to
        by a workstation: there is nothing to find."""
        return []

    def trigger_names(self) -> set[str]:
        return {str(r[0]) for r in self.conn.raw.execute(
            "SELECT tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE NOT t.tgisinternal AND n.nspname = current_schema()")}

    def cipher_problems(self) -> list[str]:
        return []

    def close(self) -> None:
        self.conn.close()
