"""Rows against their history: every audited row must equal what its audit entries say
(the insert's values, then each update's changes; a column never mentioned holds its
schema default). A row edited, added or removed with raw SQL is found even when the
audit chain itself is untouched. Streams each table and its entries in uuid order (two
indexes), so memory stays flat on a ten-year file.

The replay itself is plain SQL and runs on either engine; what it needs of the catalog
(the keyed tables and their column defaults) comes from the engine
(`Engine.column_defaults`), or for an upgrade step on the file from its PRAGMAs here."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

from ketalog.store.audit import REDACTED_PREFIX, AuditChain, redacted, values_json
from ketalog.store.engine_api import Connection

#: keyed table -> {column: its schema default (None: none)}
Keyed = dict[str, dict[str, object]]

OLD_REDACTION = "<redacted>"  # entries written before secrets were audited as SHA-256
MAX_PER_TABLE = 20
_DELETED = object()


def _norm(value: object) -> object:
    return json.loads(json.dumps(value, default=str))


def _same(column: str, actual: object, recorded: object) -> bool:
    if actual == recorded:
        return True  # the common case, without a JSON round trip
    if recorded == OLD_REDACTION:
        return True
    if isinstance(recorded, str) and recorded.startswith(REDACTED_PREFIX):
        return redacted(actual) == recorded
    return _norm(actual) == recorded


def keyed_tables(conn: sqlite3.Connection) -> list[str]:
    """Tables whose rows carry a uuid and are written through the audited Writer."""
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND name NOT LIKE '\\_%' ESCAPE '\\' AND name != 'audit_log' ORDER BY name")]
    return [n for n in names
            if any(c[1] == "uuid" for c in conn.execute(f"PRAGMA table_info({n})"))]


def keyed(defaults: dict[str, dict[str, object]]) -> Keyed:
    """Of every table's column defaults, the tables whose rows carry a uuid and are
    written through the audited Writer, in name order."""
    return {t: defaults[t] for t in sorted(defaults)
            if "uuid" in defaults[t] and t != "audit_log"
            and not t.startswith(("_", "sqlite_"))}


def _defaults(conn: sqlite3.Connection, table: str) -> dict[str, object]:
    found: dict[str, object] = {}
    for _, name, _, _, default, _ in conn.execute(f"PRAGMA table_info({table})"):
        found[name] = None if default is None else conn.execute(f"SELECT {default}").fetchone()[0]
    return found


def _histories(conn: Connection, table: str) -> Iterator[tuple[str, object]]:
    """(row key, replayed values or _DELETED) in key order."""
    cursor = conn.execute(
        "SELECT row_uuid, action, new_values FROM audit_log WHERE table_name = ? "
        "AND action IN ('insert', 'update', 'delete') ORDER BY row_uuid, id", [table])
    key: str | None = None
    state: dict[str, object] = {}
    deleted = False
    for row_uuid, action, new_values in cursor:
        if row_uuid != key:
            if key is not None:
                yield key, _DELETED if deleted else state
            key, state, deleted = row_uuid, {}, False
        if action == "delete":
            deleted = True
            continue
        values: dict[str, object] = json.loads(new_values) if new_values else {}
        if deleted or action == "insert":
            state, deleted = {}, False
        state = state | values
    if key is not None:
        yield key, _DELETED if deleted else state


def _merge(rows: Iterator[tuple[str, dict[str, object]]],
           histories: Iterator[tuple[str, object]]
           ) -> Iterator[tuple[str, dict[str, object] | None, object]]:
    """Join two key-ordered streams: (key, row or None, history or None)."""
    row = next(rows, None)
    hist = next(histories, None)
    while row is not None or hist is not None:
        if hist is None or (row is not None and row[0] < hist[0]):
            assert row is not None
            yield row[0], row[1], None
            row = next(rows, None)
        elif row is None or hist[0] < row[0]:
            yield hist[0], None, hist[1]
            hist = next(histories, None)
        else:
            yield row[0], row[1], hist[1]
            row, hist = next(rows, None), next(histories, None)


def _table_rows(conn: Connection, table: str, key: str
                ) -> Iterator[tuple[str, dict[str, object]]]:
    cursor = conn.execute(f"SELECT * FROM {table} ORDER BY {key}")
    names = [d[0] for d in cursor.description]
    for values in cursor:
        row = dict(zip(names, values, strict=True))
        yield str(row[key]), row


def _row_problem(table: str, key: str, row: dict[str, object] | None, history: object,
                 defaults: dict[str, object]) -> str | None:
    if history is None:
        return f"{table} {key}: has no audit entry (written outside ketalog)"
    if row is None:
        if history is _DELETED or history == {"roles": []}:
            return None
        return f"{table} {key}: removed outside ketalog (its audit history says it exists)"
    if history is _DELETED:
        return f"{table} {key}: present although its audit history says it was deleted"
    assert isinstance(history, dict)
    for column, actual in row.items():
        if column in history:
            if not _same(column, actual, history[column]):
                return (f"{table} {key}: {column} differs from its audit history "
                        "(changed outside ketalog)")
        elif column != "id" and actual != defaults.get(column):
            return (f"{table} {key}: {column} was set outside ketalog (its audit history "
                    "never mentions it)")
    return None


def _settings_rows(conn: Connection) -> Iterator[tuple[str, dict[str, object]]]:
    for key, value in conn.execute("SELECT key, value FROM clinic_settings ORDER BY key"):
        yield str(key), {key: json.loads(value)}


def _role_rows(conn: Connection) -> Iterator[tuple[str, dict[str, object]]]:
    cursor = conn.execute(
        "SELECT u.uuid, r.role FROM users u JOIN user_roles r ON r.user_id = u.id "
        "ORDER BY u.uuid, r.role")
    key: str | None = None
    roles: list[str] = []
    for user_uuid, role in cursor:
        if str(user_uuid) != key:
            if key is not None:
                yield key, {"roles": sorted(roles)}
            key, roles = str(user_uuid), []
        roles.append(str(role))
    if key is not None:
        yield key, {"roles": sorted(roles)}


def _streams(conn: Connection, tables: Keyed
             ) -> list[tuple[str, Iterator[tuple[str, dict[str, object]]], dict[str, object]]]:
    streams: list[tuple[str, Iterator[tuple[str, dict[str, object]]], dict[str, object]]] = [
        (t, _table_rows(conn, t, "uuid"), defaults) for t, defaults in tables.items()]
    streams.append(("clinic_settings", _settings_rows(conn), {}))
    streams.append(("user_roles", _role_rows(conn), {}))
    return streams


def _unrecorded(row: dict[str, object], history: object, defaults: dict[str, object]
                ) -> tuple[str, dict[str, object]] | None:
    """What an audit entry must say for `row` to match its history (None: it matches)."""
    if history is None or history is _DELETED:
        return "insert", row
    assert isinstance(history, dict)
    changed = {c: v for c, v in row.items()
               if (c in history and not _same(c, v, history[c]))
               or (c not in history and c != "id" and v != defaults.get(c))}
    return ("update", changed) if changed else None


def record_upgrade_writes(conn: sqlite3.Connection, step: str, at: str) -> int:
    """An upgrade step that writes rows itself (seeding a table, mapping a column)
    records what it wrote in the audit chain, openly as the system, so every row keeps
    matching its history. Returns the number of entries appended."""
    pending: list[tuple[str, str, str, dict[str, object]]] = []
    tables = {t: _defaults(conn, t) for t in keyed_tables(conn)}
    for table, rows, defaults in _streams(conn, tables):
        for key, row, history in _merge(rows, _histories(conn, table)):
            if row is None:
                continue
            found = _unrecorded(row, history, defaults)
            if found is not None:
                action = "update" if table in ("user_roles", "clinic_settings") else found[0]
                pending.append((table, key, action, found[1]))
    chain = AuditChain(conn)
    for table, key, action, values in pending:
        chain.append(at=at, user_id=None, username="system", action=action, table_name=table,
                     row_uuid=key, new_values=values_json(values),
                     reason=f"upgrade step {step}: recorded as found (written without an "
                            "audit entry)")
    return len(pending)


def history_problems(conn: Connection, tables: Keyed) -> list[str]:
    """`tables`: `keyed(engine.column_defaults())`."""
    problems: list[str] = []
    for table, rows, defaults in _streams(conn, tables):
        found = 0
        for key, row, history in _merge(rows, _histories(conn, table)):
            problem = _row_problem(table, key, row, history, defaults)
            if problem is None:
                continue
            found += 1
            if found <= MAX_PER_TABLE:
                problems.append(problem)
        if found > MAX_PER_TABLE:
            problems.append(f"{table}: {found - MAX_PER_TABLE} more rows differ from their "
                            "audit history")
    return problems
