"""A single-workstation clinic's whole history, moved from its SQLite file to the clinic
server's new database, checked before and after.

1. The file is opened read-only and verified (`verify_store`): a file that is not sound
   is refused, so no damage or tampering is carried over under a server's authority.
   One read transaction on the file lasts from its check to the comparison at the end,
   so what was checked, what is copied and what is compared are the same snapshot.
2. The server database must be at the schema this ketalog knows, at the same steps as
   the file, and hold no records yet (only its schema steps): the history of one file
   fills it, never a merge.
3. In one transaction as the owner role, holding the workstations' write lock: every
   table's rows with their ids, in foreign-key order, streamed in batches by COPY; the
   audit log last and verbatim (same ids, hashes, previous hashes). Nothing is updated
   or deleted, so the append-only triggers stay on and are obeyed; signed sessions are
   written unsigned and marked signed once their rows are in (the locks refuse rows
   under a signed session; a session that is not yet signed may be marked so). Then
   each identity sequence is set past the largest id. Any refusal rolls back all of it.
4. The server is verified like a file, and compared with the file: the same rows per
   table, the same audit head (id and hash), every signed session's content hash.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import errors as pg_errors

from ketalog.domain.clock import Clock
from ketalog.domain.hashing import content_hash
from ketalog.store import pg_schema
from ketalog.store import sessions as sessions_store
from ketalog.store.connection import open_for_verify
from ketalog.store.content import session_content
from ketalog.store.engine_api import Connection
from ketalog.store.errors import StoreError
from ketalog.store.pg_connection import check_schema, connect, open_server_store, safe_location
from ketalog.store.pg_engine import WRITE_LOCK, translate_error
from ketalog.store.progress import PhaseProgress
from ketalog.store.schema import MIGRATION_SET
from ketalog.store.store import Store
from ketalog.store.verify import verify_store

BATCH_ROWS = 5000
SOURCE_MIGRATIONS = "_sqlite_migrations"
SIGNED = "signed"
UNSIGNED_WHILE_COPYING = "completed"


class MigrationRefused(StoreError):
    """The file or the server database is not one a migration may start from or into."""


@dataclass(frozen=True)
class AuditHead:
    entry_id: int
    entry_hash: str

    def describe(self) -> str:
        return f"entry {self.entry_id} {self.entry_hash[:16]}" if self.entry_id else "empty"


@dataclass(frozen=True)
class MigrationReport:
    source: str
    target: str
    copied: dict[str, int]  # table -> rows, in the order they were copied
    source_head: AuditHead
    target_head: AuditHead
    signed_sessions: int
    seconds: float
    target_problems: list[str] = field(default_factory=list)  # verify on the server
    differences: list[str] = field(default_factory=list)  # server against file

    @property
    def sound(self) -> bool:
        return not self.target_problems and not self.differences


def _phases(progress: PhaseProgress | None, prefix: str) -> PhaseProgress | None:
    if progress is None:
        return None

    def report(phase: str, done: int, total: int) -> None:
        progress(f"{prefix}{phase}", done, total)

    return report


def audit_head(conn: Connection) -> AuditHead:
    row = conn.execute("SELECT id, entry_hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    return AuditHead(0, "") if row is None else AuditHead(int(row[0]), str(row[1]))


def _source_steps(source: Store) -> list[str]:
    return [str(r[0]) for r in source.conn.execute(
        f"SELECT name FROM {SOURCE_MIGRATIONS} WHERE migration_set = ? ORDER BY id",
        [MIGRATION_SET]).fetchall()]


def _source_tables(source: Store) -> dict[str, list[str]]:
    """The file's tables that hold records (not SQLite's nor the migrations' own)."""
    return {name: cols for name, cols in source.engine.table_columns().items()
            if not name.startswith(("sqlite_", "_"))}


def _target_columns(conn: psycopg.Connection[Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for table, column in conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"):
        found.setdefault(str(table), []).append(str(column))
    found.pop(pg_schema.MIGRATIONS_TABLE, None)
    return found


def _schema_differences(source: dict[str, list[str]], target: dict[str, list[str]]
                        ) -> list[str]:
    found = [f"table {t} is only in the file" for t in sorted(set(source) - set(target))]
    found += [f"table {t} is only on the server" for t in sorted(set(target) - set(source))]
    found += [f"{t}: columns differ ({', '.join(sorted(set(source[t]) ^ set(target[t])))})"
              for t in sorted(set(source) & set(target)) if set(source[t]) != set(target[t])]
    return found


def _tables_with_rows(conn: psycopg.Connection[Any], tables: Sequence[str]) -> list[str]:
    found = []
    for table in tables:
        row = conn.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()
        if row is not None and row[0]:
            found.append(table)
    return found


def copy_order(conn: psycopg.Connection[Any], tables: Sequence[str]) -> list[str]:
    """`tables` so that each comes after every table its foreign keys point at (ties by
    name), the audit log last."""
    needs: dict[str, set[str]] = {t: set() for t in tables}
    for child, parent in conn.execute(
            "SELECT c.relname, p.relname FROM pg_constraint k "
            "JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE k.contype = 'f' AND n.nspname = current_schema()"):
        if child in needs and parent in needs and child != parent:
            needs[str(child)].add(str(parent))
    order: list[str] = []
    while needs:
        ready = sorted(t for t, parents in needs.items() if not parents - set(order))
        if not ready:
            raise StoreError(f"the server's foreign keys form a cycle: {sorted(needs)}")
        ready = [t for t in ready if t != "audit_log"] or ready
        order.append(ready[0])
        del needs[ready[0]]
    return order


def _batches(source: Store, table: str, columns: Sequence[str], key: Sequence[str]
             ) -> Iterator[list[tuple[Any, ...]]]:
    cursor: Any = source.conn.execute(
        f"SELECT {', '.join(columns)} FROM {table} ORDER BY {', '.join(key)}")
    while True:
        rows = cursor.fetchmany(BATCH_ROWS)
        if not rows:
            return
        yield [tuple(r) for r in rows]


def _key(table: str, columns: Sequence[str]) -> list[str]:
    if "id" in columns:
        return ["id"]
    if table == "user_roles":
        return ["user_id", "role"]
    return [columns[0]]


def _copy_table(conn: psycopg.Connection[Any], source: Store, table: str,
                columns: Sequence[str], progress: PhaseProgress | None,
                signed: list[int]) -> int:
    total = source.count(table)
    phase = f"copy {table}"
    if progress:
        progress(phase, 0, total)
    status = columns.index("status") if table == "sessions" else -1
    done = 0
    with conn.cursor() as cursor, cursor.copy(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for batch in _batches(source, table, columns, _key(table, columns)):
            for row in batch:
                if status >= 0 and row[status] == SIGNED:
                    signed.append(int(row[columns.index("id")]))
                    row = (*row[:status], UNSIGNED_WHILE_COPYING, *row[status + 1:])
                copy.write_row(row)
            done += len(batch)
            if progress:
                progress(phase, done, total)
    if done != total:
        raise StoreError(f"{table}: {done} rows read from the file, {total} counted")
    return done


def _reset_sequences(conn: psycopg.Connection[Any], tables: Sequence[str]) -> None:
    identity = {str(r[0]) for r in conn.execute(
        "SELECT table_name FROM information_schema.columns WHERE table_schema = "
        "current_schema() AND column_name = 'id' AND is_identity = 'YES'")}
    for table in tables:
        if table in identity:
            conn.execute(f"SELECT setval(pg_get_serial_sequence(%s, 'id'), max(id)) "
                         f"FROM {table} HAVING max(id) IS NOT NULL", [table])


def _copy_all(conninfo: str, source: Store, progress: PhaseProgress | None
              ) -> tuple[dict[str, int], int]:
    location = safe_location(conninfo)
    conn = connect(conninfo)
    try:
        check_schema(conn, location)
        source_tables = _source_tables(source)
        differences = _schema_differences(source_tables, _target_columns(conn))
        steps = _source_steps(source)
        if differences or steps != pg_schema.step_names():
            raise MigrationRefused(
                f"the file's schema ({steps[-1] if steps else 'none'}) is not the server's "
                f"({pg_schema.step_names()[-1]}): "
                f"{'; '.join(differences) or 'different schema steps'}; open the file with "
                "this ketalog once (it upgrades it), then migrate")
        copied: dict[str, int] = {}
        signed: list[int] = []
        with conn.transaction():
            try:
                conn.execute(f"SET LOCAL ROLE {pg_schema.OWNER_ROLE}")
            except pg_errors.InsufficientPrivilege as exc:
                raise MigrationRefused(
                    f"{location}: the migration needs a login of the owner role "
                    f"{pg_schema.OWNER_ROLE} (a workstation login may not write ids, "
                    "sequences or the audit log verbatim)") from exc
            conn.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
            order = copy_order(conn, list(source_tables))
            holding = _tables_with_rows(conn, order)
            if holding:
                raise MigrationRefused(
                    f"{location} already holds records ({', '.join(holding)}); a file "
                    "moves only into a new, empty clinic database")
            for table in order:
                copied[table] = _copy_table(conn, source, table, source_tables[table],
                                            progress, signed)
            if signed:
                conn.execute("UPDATE sessions SET status = %s WHERE id = ANY(%s)",
                             [SIGNED, signed])
            _reset_sequences(conn, order)
        return copied, len(signed)
    except psycopg.Error as exc:
        raise translate_error(exc) from exc
    finally:
        conn.close()


def _signed_hashes(store: Store) -> dict[int, str]:
    return {sid: content_hash(session_content(store, sid))
            for sid in sessions_store.signed_ids(store)}


def compare(source: Store, target: Store, tables: Sequence[str]) -> list[str]:
    """What differs between the file and the server after a migration (nothing, when
    it worked): rows per table, the audit head, each signed session's content hash."""
    found = [f"{t}: {source.count(t)} rows in the file, {target.count(t)} on the server"
             for t in tables if source.count(t) != target.count(t)]
    before, after = audit_head(source.conn), audit_head(target.conn)
    if before != after:
        found.append(f"audit head: {before.describe()} in the file, {after.describe()} on "
                     "the server")
    file_hashes, server_hashes = _signed_hashes(source), _signed_hashes(target)
    if set(file_hashes) != set(server_hashes):
        found.append(f"signed sessions differ: {sorted(set(file_hashes) ^ set(server_hashes))}")
    found += [f"session {sid}: its signed content hash differs on the server"
              for sid in sorted(set(file_hashes) & set(server_hashes))
              if file_hashes[sid] != server_hashes[sid]]
    return found


def migrate_from_file(source_path: Path, passphrase: str | None, conninfo: str,
                      clock: Clock, progress: PhaseProgress | None = None) -> MigrationReport:
    """Move the file at `source_path` into the empty clinic database at `conninfo` (a
    login of the owner role); see the module's text. Refuses (MigrationRefused) a file
    that does not verify and a database that is not empty; a failure while copying
    leaves the database as empty as it was."""
    started = time.monotonic()
    source = open_for_verify(source_path, clock, passphrase=passphrase)
    try:
        source.conn.execute("BEGIN")  # one snapshot of the file from here to the end
        problems = verify_store(source, _phases(progress, "check file: "))
        if problems:
            raise MigrationRefused(
                f"{source_path} did not verify, so it is not moved to the server "
                f"({len(problems)} problem(s), first: {problems[0]}); run `ketalog verify`")
        copied, signed = _copy_all(conninfo, source, progress)
        target = open_server_store(conninfo, clock)
        try:
            target_problems = verify_store(target, _phases(progress, "check server: "))
            if progress:
                progress("compare", 0, 1)
            differences = compare(source, target, list(copied))
            if progress:
                progress("compare", 1, 1)
            return MigrationReport(
                source=str(source_path), target=safe_location(conninfo), copied=copied,
                source_head=audit_head(source.conn), target_head=audit_head(target.conn),
                signed_sessions=signed, seconds=time.monotonic() - started,
                target_problems=target_problems, differences=differences)
        finally:
            target.close()
    finally:
        source.close()
