"""The Store: the one object the rest of ketalog reads and writes the database through.
Writes happen in `store.write(actor)` blocks: a write transaction, the change, its audit
entries, then a durable commit, or nothing at all. Reads return plain dict rows to the
store's entity modules, which turn them into domain objects. What depends on the engine
(transactions, the dialect, error wording, checks) is behind `engine_api.Engine`."""

from __future__ import annotations

import json
import re
import uuid as uuidlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ketalog.domain.clock import Clock, to_iso
from ketalog.store.audit import AuditChain, values_json
from ketalog.store.edit_conflicts import refuse_if_changed
from ketalog.store.engine_api import Connection, Engine
from ketalog.store.errors import NotFound, StoreError
from ketalog.store.touched import Touched, touched

__all__ = ["SYSTEM", "Actor", "Store", "Writer", "new_uuid"]

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class Actor:
    """Who a change is attributed to in the audit log."""

    user_id: int | None
    username: str


SYSTEM = Actor(None, "system")


def new_uuid() -> str:
    return str(uuidlib.uuid4())


class Writer:
    """Audited writes inside one transaction."""

    def __init__(self, store: Store, actor: Actor) -> None:
        self.store = store
        self.actor = actor
        self.conn = store.conn
        self.chain = store.chain
        self.now = to_iso(store.clock.now())

    def audit(self, action: str, table: str, row_uuid: str, old: Mapping[str, object] | None,
              new: Mapping[str, object] | None, reason: str = "",
              row: Mapping[str, object] | None = None) -> None:
        """One entry on the chain for a change a store module made with its own SQL
        (a whole set of rows replaced at once, say): old and new values as given. `row`
        is the whole row where the values are only what changed (which session and
        patient it belongs to, for the other workstations' screens)."""
        self.store.touched.append(touched(table, action, row_uuid,
                                          row if row is not None else new or old,
                                          self.actor.username))
        self.chain.append(at=self.now, user_id=self.actor.user_id,
                          username=self.actor.username, action=action, table_name=table,
                          row_uuid=row_uuid, old_values=values_json(old),
                          new_values=values_json(new), reason=reason)

    def insert(self, table: str, values: Mapping[str, object], reason: str = "") -> int:
        """Insert one row (audited); returns its new id."""
        return int(str(self.insert_row(table, values, reason)["id"]))

    def insert_row(self, table: str, values: Mapping[str, object], reason: str = ""
                   ) -> dict[str, object]:
        """Insert one row (audited); returns it as stored, from the insert itself (on a
        server, a read of it afterwards would be one more round trip)."""
        row = self.store.prepare_row(table, values)
        cols = list(row)
        stored = self.store.engine.insert(table, cols, [row[c] for c in cols])
        row_id = stored["id"]
        self.audit("insert", table, str(row.get("uuid", row_id)), None, {"id": row_id, **row},
                    reason)
        return stored

    def insert_many(self, table: str, rows: Iterable[Mapping[str, object]]) -> int:
        """Bulk path (demo data, imports): one executemany plus one audit executemany."""
        prepared = [self.store.prepare_row(table, r) for r in rows]
        if not prepared:
            return 0
        cols = list(prepared[0])
        for n, r in enumerate(prepared):
            if list(r) != cols:
                raise StoreError(f"insert_many into {table}: row {n} has columns "
                                 f"{sorted(r)} but row 0 has {sorted(cols)}")
        self.conn.executemany(
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            [[r.get(c) for c in cols] for r in prepared])
        self.store.touched.extend(
            touched(table, "insert", str(r.get("uuid", "")), r, self.actor.username)
            for r in prepared)
        self.chain.append_many([
            self.chain.entry(at=self.now, user_id=self.actor.user_id,
                             username=self.actor.username, action="insert", table_name=table,
                             row_uuid=str(r.get("uuid", "")), new_values=values_json(r))
            for r in prepared])
        return len(prepared)

    def update(self, table: str, row_id: int, changes: Mapping[str, object],
               reason: str = "", expected: Mapping[str, object] | None = None
               ) -> dict[str, object]:
        """Change some columns; only what actually changed is written and audited. With
        `expected` (the values the caller's screen started from), a row someone else
        changed meanwhile refuses the change (edit_conflicts.py)."""
        old = self.store.get(table, row_id)
        if old is None:
            raise NotFound(f"{table} row {row_id} does not exist")
        self.store.check_columns(table, changes)
        if expected:
            self.store.check_columns(table, expected)
            refuse_if_changed(self.conn, table, old, expected)
        diff = {k: v for k, v in changes.items() if old.get(k) != v}
        if not diff:
            return old
        assignments = ", ".join(f"{k} = ?" for k in diff)
        self.conn.execute(f"UPDATE {table} SET {assignments} WHERE id = ?",
                          [*diff.values(), row_id])
        self.audit("update", table, str(old.get("uuid", row_id)),
                    {k: old[k] for k in diff}, diff, reason, row={**old, **diff})
        return {**old, **diff}

    def delete(self, table: str, row_id: int, reason: str = "") -> None:
        old = self.store.get(table, row_id)
        if old is None:
            raise NotFound(f"{table} row {row_id} does not exist")
        self.conn.execute(f"DELETE FROM {table} WHERE id = ?", [row_id])
        self.audit("delete", table, str(old.get("uuid", row_id)), old, None, reason)

    def set_setting(self, key: str, value: object, reason: str = "") -> None:
        old = self.store.setting(key)
        text = json.dumps(value, sort_keys=True)
        self.conn.execute("INSERT INTO clinic_settings (key, value) VALUES (?, ?) "
                          "ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, text])
        self.audit("update" if old is not None else "insert", "clinic_settings", key,
                    None if old is None else {key: old}, {key: value}, reason)

    def event(self, action: str, table: str = "", row_uuid: str = "",
              details: Mapping[str, object] | None = None, reason: str = "") -> None:
        """A non-data event worth auditing: login, lockout, export, backup, restore."""
        self.audit(action, table, row_uuid, None, details, reason)


class Store:
    def __init__(self, engine: Engine, path: Path | None, clock: Clock, *,
                 passphrase: str | None = None) -> None:
        self.engine = engine
        self.conn: Connection = engine.conn
        self._path = path
        self.clock = clock
        # Kept in memory only: backups of an encrypted file are keyed with it.
        self.passphrase = passphrase
        self.chain = AuditChain(self.conn, send=engine.send_later)
        self.touched: list[Touched] = []  # the write in progress's rows (touched.py)
        self._columns: dict[str, list[str]] = {}
        self.refresh_columns()

    # -- plumbing -----------------------------------------------------------
    @property
    def path(self) -> Path:
        """The local database file. A clinic server has none: what needs the file
        (encrypting it, the anchor log beside it, its owner's recovery) is refused there
        with this sentence instead of guessing a path."""
        if self._path is None:
            raise StoreError(f"this needs the local database file; {self.location} is a "
                             "clinic server")
        return self._path

    @property
    def local_file(self) -> Path | None:
        """The local database file, or None on a clinic server."""
        return self._path

    @property
    def on_server(self) -> bool:
        """Whether the records are on a clinic server (then there is no local file)."""
        return self._path is None

    @property
    def location(self) -> str:
        """Where the records are, as the user named it (a file, or a server)."""
        if self._path is not None:
            return str(self._path)
        return str(getattr(self.engine, "location", self.engine.name))

    def refresh_columns(self) -> None:
        self._columns = self.engine.table_columns()

    def columns(self, table: str) -> list[str]:
        if not _IDENT.match(table) or table not in self._columns:
            raise StoreError(f"unknown table {table!r}")
        return self._columns[table]

    def check_columns(self, table: str, values: Mapping[str, object]) -> None:
        known = set(self.columns(table))
        unknown = [k for k in values if k not in known]
        if unknown:
            raise StoreError(f"unknown column(s) {', '.join(unknown)} for {table}")

    def prepare_row(self, table: str, values: Mapping[str, object]) -> dict[str, object]:
        row = dict(values)
        cols = self.columns(table)
        if "uuid" in cols and not row.get("uuid"):
            row["uuid"] = new_uuid()
        self.check_columns(table, row)
        return row

    @contextmanager
    def write(self, actor: Actor) -> Iterator[Writer]:
        """One durable, audited write transaction; all or nothing."""
        engine = self.engine
        try:
            head = engine.begin_write()
        except engine.errors as exc:
            self._rollback()  # a BEGIN that went through must not stay open
            raise engine.translate(exc) from exc
        # Another connection (a second ketalog, the monitor feed's listener) may have
        # appended audit entries since our last write: re-read the chain head under the lock.
        self.chain.forget()
        if head is not None:
            self.chain.prime(head)
        self.touched = []
        try:
            yield Writer(self, actor)
            engine.commit(self.touched)
        except engine.errors as exc:
            self._rollback()
            raise engine.translate(exc) from exc
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        self.chain.forget()
        self.engine.rollback()

    def close(self) -> None:
        self.engine.close()

    # -- reads --------------------------------------------------------------
    def _select(self, sql: str, params: Sequence[object] = ()) -> list[dict[str, object]]:
        cursor = self.conn.execute(sql, list(params))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

    def _where(self, table: str, where: Mapping[str, object]) -> tuple[str, list[object]]:
        self.check_columns(table, where)
        if not where:
            return "", []
        parts, params = [], []
        for key, value in where.items():
            if value is None:
                parts.append(f"{key} IS NULL")
            else:
                parts.append(f"{key} = ?")
                params.append(value)
        return " WHERE " + " AND ".join(parts), params

    def get(self, table: str, row_id: int) -> dict[str, object] | None:
        self.columns(table)
        rows = self._select(f"SELECT * FROM {table} WHERE id = ?", [row_id])
        return rows[0] if rows else None

    def get_by(self, table: str, **where: object) -> dict[str, object] | None:
        rows = self._rows(table, None, 2, where)
        return rows[0] if rows else None

    def rows(self, table: str, order_by: str | None = None, limit: int | None = None,
             **where: object) -> list[dict[str, object]]:
        return self._rows(table, order_by, limit, where)

    def _rows(self, table: str, order_by: str | None, limit: int | None,
              where: Mapping[str, object]) -> list[dict[str, object]]:
        clause, params = self._where(table, where)
        sql = f"SELECT * FROM {table}{clause}"
        if order_by:
            for part in order_by.split(","):
                column = part.strip().removesuffix(" DESC").removesuffix(" desc")
                self.check_columns(table, {column: None})
            sql += f" ORDER BY {order_by}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return self._select(sql, params)

    def column_values(self, table: str, columns: Sequence[str], order_by: str,
                      **where: object) -> list[tuple[object, ...]]:
        """Plain tuples of a few columns: long series (1 Hz device vitals) cost a fraction
        of full rows as dicts."""
        self.check_columns(table, dict.fromkeys(columns))
        clause, params = self._where(table, where)
        for part in order_by.split(","):
            self.check_columns(table, {part.strip(): None})
        sql = f"SELECT {', '.join(columns)} FROM {table}{clause} ORDER BY {order_by}"
        found: list[tuple[object, ...]] = self.conn.execute(sql, params).fetchall()
        return found

    def rows_with_ids(self, table: str, ids: Sequence[int]) -> list[dict[str, object]]:
        self.columns(table)
        found: list[dict[str, object]] = []
        for start in range(0, len(ids), 500):  # stay under SQLite's variable limit
            chunk = [int(i) for i in ids[start:start + 500]]
            found += self._select(f"SELECT * FROM {table} WHERE id IN "
                                  f"({', '.join('?' * len(chunk))})", chunk)
        return found

    def count(self, table: str, **where: object) -> int:
        clause, params = self._where(table, where)
        return int(self.conn.execute(f"SELECT count(*) FROM {table}{clause}", params).fetchone()[0])

    def table_counts(self) -> dict[str, int]:
        names = [n for n in self._columns if not n.startswith("sqlite_")]
        return {n: self.count(n) for n in sorted(names)}

    def setting(self, key: str) -> object | None:
        row = self.conn.execute("SELECT value FROM clinic_settings WHERE key = ?",
                                [key]).fetchone()
        return None if row is None else json.loads(row[0])

    def search_patients(self, text: str = "", limit: int = 200) -> list[dict[str, object]]:
        """Match MRN, family/given name prefix or birth date (YYYY-MM-DD prefix)."""
        text = text.strip()
        order = f" ORDER BY {self.engine.nocase('family_name')}, given_name, id LIMIT ?"
        if not text:
            return self._select("SELECT * FROM patients" + order, [limit])
        like = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        match = " OR ".join(self.engine.starts_with(c)
                            for c in ("mrn", "family_name", "given_name", "birth_date"))
        return self._select(f"SELECT * FROM patients WHERE {match}" + order,
                            [like, like, like, like, limit])

    def audit_rows(self, limit: int | None = None, **where: object) -> list[dict[str, object]]:
        return self.rows("audit_log", order_by="id", limit=limit, **where)

    @property
    def encrypted(self) -> bool:
        return self.passphrase is not None

    # -- checks used by verify ---------------------------------------------
    def cipher_problems(self) -> list[str]:
        """SQLCipher's per-page HMAC check; empty for a plain file."""
        return self.engine.cipher_problems()

    def integrity_problems(self) -> list[str]:
        return self.engine.integrity_problems()

    def foreign_key_problems(self) -> list[str]:
        return self.engine.foreign_key_problems()

    def trigger_names(self) -> set[str]:
        return self.engine.trigger_names()

    def audit_entry_count(self) -> int:
        """Entries in the chain (ids are gap-free, so the last id; verify reports gaps)."""
        row = self.conn.execute("SELECT max(id) FROM audit_log").fetchone()
        return int(row[0] or 0)
