"""The clinic-server schema (store/pg_schema.py) on a real PostgreSQL server: it applies
from empty, it describes the same tables as a freshly migrated SQLite file, and the server
itself refuses what the SQLite triggers refuse, and what the workstation role may not do."""

from __future__ import annotations

import itertools
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ketalog.domain.clock import FixedClock
from ketalog.store import pg_schema
from ketalog.store.errors import RecordLocked
from ketalog.store.schema import LOCKED_MESSAGE, SESSION_CHILD_TABLES, migrations
from ketalog.store.sqlite_engine import translate_error

psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed")
from psycopg import errors as pg_errors  # noqa: E402

from tests.pg_clinic import (  # noqa: E402
    NOW,
    Clinic,
    copy_of,
    migrate,
    new_database,
)


@pytest.fixture(scope="module")
def shared_clinic(pg_roles) -> Clinic:
    """One migrated database that most tests share, each with rows of its own."""
    c = new_database(pg_roles)
    migrate(c)
    return c


@pytest.fixture(scope="module")
def pristine(pg_roles) -> Clinic:
    """A migrated database no test connects to: the template of `clinic`."""
    c = new_database(pg_roles)
    migrate(c)
    return c


@pytest.fixture
def clinic(pristine: Clinic) -> Clinic:
    """A database of its own, freshly migrated (copied: far quicker than migrating)."""
    return copy_of(pristine)


def sqlite_step_names() -> list[str]:
    from sqlite_utils import Database

    return [m.name for m in migrations.pending(Database(memory=True))]


# --- the schema version -----------------------------------------------------------------

def test_every_sqlite_step_has_its_server_step():
    """A new SQLite step fails here until pg_schema gets the step that mirrors it."""
    assert pg_schema.step_names() == sqlite_step_names()


def test_schema_applies_from_empty_and_records_its_version(pg_roles):
    clinic = new_database(pg_roles)
    with clinic.owner() as conn:
        assert pg_schema.applied_steps(conn) == []
    assert migrate(clinic) == sqlite_step_names()
    with clinic.owner() as conn:
        assert pg_schema.applied_steps(conn) == sqlite_step_names()
        tables = {r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        owners = {r[0] for r in conn.execute(
            "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")}
    assert tables == set(pg_schema.TABLES)
    assert owners == {pg_schema.OWNER_ROLE}  # not the login that ran it
    assert migrate(clinic) == []  # applied steps are not run twice


def test_owner_can_migrate_and_a_newer_schema_is_refused(clinic: Clinic):
    later = pg_schema.Step(names=("m999_nickname",),
                           statements=("ALTER TABLE patients ADD COLUMN nickname text",
                                       "CREATE TABLE reminders (id bigint PRIMARY KEY)"))
    assert migrate(clinic, (*pg_schema.STEPS, later)) == ["m999_nickname"]
    with clinic.workstation() as conn:
        assert conn.execute("SELECT nickname FROM patients").fetchall() == []
        conn.execute("INSERT INTO reminders (id) VALUES (1)")  # a new table is granted too
        with pytest.raises(pg_errors.InsufficientPrivilege):
            conn.execute("TRUNCATE reminders")
    with clinic.owner() as conn:
        assert pg_schema.applied_steps(conn)[-1] == "m999_nickname"
    with pytest.raises(pg_schema.SchemaProblem, match="m999_nickname"):
        migrate(clinic)  # a ketalog that does not know the step


def test_workstation_cannot_migrate(clinic: Clinic):
    with clinic.workstation() as conn, pytest.raises(pg_errors.InsufficientPrivilege):
        with conn.transaction():
            pg_schema.apply(conn, NOW)
    for ddl in ("CREATE TABLE scratch (x text)",
                "ALTER TABLE patients ADD COLUMN nickname text",
                "ALTER TABLE audit_log DISABLE TRIGGER ALL",
                "DROP TRIGGER audit_log_append_only_update ON audit_log",
                "CREATE INDEX idx_scratch ON patients(notes)",
                "CREATE TEMPORARY TABLE scratch (x text)"):
        with clinic.workstation() as conn, pytest.raises(pg_errors.InsufficientPrivilege):
            conn.execute(ddl)


def test_a_database_that_does_not_sort_bytewise_is_refused(pg_roles, monkeypatch):
    clinic = new_database(pg_roles)
    monkeypatch.setattr(pg_schema, "BYTEWISE_COLLATIONS", frozenset({"en_US.UTF-8"}))
    with pytest.raises(pg_schema.SchemaProblem, match="collation is C: ketalog needs C"):
        migrate(clinic)
    with clinic.owner() as conn:
        assert pg_schema.applied_steps(conn) == []  # nothing was applied


# --- the same schema as SQLite ----------------------------------------------------------

SQLITE_TYPES = {"INTEGER": "INTEGER", "TEXT": "TEXT", "REAL": "REAL"}
PG_TYPES = {"bigint": "INTEGER", "integer": "INTEGER", "smallint": "INTEGER", "text": "TEXT",
            "double precision": "REAL"}
PG_FK_ACTIONS = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL",
                 "d": "SET DEFAULT"}
IDENTITY = "<identity>"
EXPRESSION = "<expression>"


def _column_defs(create_sql: str) -> list[str]:
    """The comma-separated parts inside CREATE TABLE (...), split at depth 0."""
    body = create_sql[create_sql.index("(") + 1:create_sql.rindex(")")]
    parts, depth, current = [], 0, ""
    for ch in body:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    parts.append(current.strip())
    return parts


def _squash(text: str) -> str:
    return re.sub(r"[\s()\"]", "", text).lower()


@dataclass(frozen=True)
class Described:
    tables: frozenset[str]
    columns: dict[str, list[tuple[str, str, bool, str | None]]]
    primary_keys: dict[str, tuple[str, ...]]
    foreign_keys: dict[str, frozenset[tuple[object, ...]]]
    indexes: dict[str, frozenset[tuple[object, ...]]]
    nocase_columns: frozenset[tuple[str, str]]
    checks: dict[str, int]
    triggers: frozenset[tuple[str, str, str, str]]


def describe_sqlite(path: Path) -> Described:
    conn = sqlite3.connect(path)
    tables = sorted(r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND name != '_sqlite_migrations'"))
    columns, pks, fks, indexes, checks = {}, {}, {}, {}, {}
    nocase: set[tuple[str, str]] = set()
    for t in tables:
        info = conn.execute(f"PRAGMA table_info({t})").fetchall()
        pk = tuple(r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5]))
        pks[t] = pk
        rowid_pk = len(pk) == 1 and any(r[1] == pk[0] and r[2] == "INTEGER" for r in info)
        columns[t] = [
            (name, SQLITE_TYPES[kind], bool(notnull) or bool(in_pk),
             IDENTITY if rowid_pk and in_pk else default)
            for _, name, kind, notnull, default, in_pk in info]
        groups: dict[int, list[tuple[object, ...]]] = {}
        for fk_id, _, parent, child, parent_col, on_update, on_delete, _ in conn.execute(
                f"PRAGMA foreign_key_list({t})"):
            groups.setdefault(fk_id, []).append((child, parent, parent_col, on_update, on_delete))
        # (SQLite's keys here are all checked at each statement: none is DEFERRABLE)
        fks[t] = frozenset(
            (tuple(g[0] for g in group), group[0][1], tuple(g[2] for g in group), group[0][3],
             group[0][4], False) for group in groups.values())
        found = set()
        for _, name, unique, origin, partial in conn.execute(f"PRAGMA index_list({t})"):
            if origin == "pk":
                continue
            keys = [r for r in conn.execute(f"PRAGMA index_xinfo({name})") if r[5]]
            sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?",
                               [name]).fetchone()[0]
            cols = tuple(r[2] if r[1] >= 0 else EXPRESSION for r in keys)
            expression = predicate = None
            if EXPRESSION in cols:
                expression = _squash(sql[sql.index("(") + 1:sql.rindex(")")])
            if partial:
                predicate = _squash(sql.split(" WHERE ", 1)[1])
            found.add(("unique" if origin == "u" else "index", name if origin == "c" else None,
                       bool(unique), cols, tuple(r[4].upper() for r in keys), expression,
                       predicate))
        indexes[t] = frozenset(found)
        create = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", [t]).fetchone()[0]
        defs = _column_defs(create)
        checks[t] = sum(len(re.findall(r"\bCHECK\s*\(", d)) for d in defs)
        for d in defs:
            if "COLLATE NOCASE" in d.upper() and not re.match(r"(UNIQUE|CHECK|PRIMARY)\b", d):
                nocase.add((t, d.split()[0]))
    triggers = set()
    for name, sql in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"):
        timing, event, table = re.match(r"CREATE TRIGGER \w+ (BEFORE|AFTER) (\w+) ON (\w+)",
                                        sql).groups()
        triggers.add((name, table, timing, event))
    conn.close()
    return Described(frozenset(tables), columns, pks, fks, indexes, frozenset(nocase), checks,
                     frozenset(triggers))


def _pg_default(default: str | None) -> str | None:
    if default is None:
        return None
    return re.sub(r"::[a-z ]+$", "", default)


def describe_postgres(conn) -> Described:
    tables = sorted(r[0] for r in conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename != %s",
        [pg_schema.MIGRATIONS_TABLE]))
    columns, pks, fks, indexes, checks = {}, {}, {}, {}, {}
    nocase: set[tuple[str, str]] = set()
    for t in tables:
        rows = conn.execute(
            "SELECT column_name, data_type, is_nullable, column_default, is_identity, "
            "collation_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND table_name = %s ORDER BY ordinal_position", [t]).fetchall()
        columns[t] = [(name, PG_TYPES[kind], nullable == "NO",
                       IDENTITY if identity == "YES" else _pg_default(default))
                      for name, kind, nullable, default, identity, _ in rows]
        nocase |= {(t, r[0]) for r in rows if r[5] == pg_schema.NOCASE}
        pk = conn.execute(
            "SELECT array_agg(a.attname ORDER BY k.ord) FROM pg_constraint c "
            "CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord) "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum "
            "WHERE c.conrelid = %s::regclass AND c.contype = 'p'", [t]).fetchone()[0]
        pks[t] = tuple(pk or ())
        fks[t] = frozenset(
            (tuple(child), parent, tuple(parent_cols), PG_FK_ACTIONS[upd], PG_FK_ACTIONS[dele],
             deferrable)
            for child, parent, parent_cols, upd, dele, deferrable in conn.execute(
                "SELECT (SELECT array_agg(a.attname ORDER BY k.ord) FROM unnest(c.conkey) "
                "  WITH ORDINALITY AS k(attnum, ord) JOIN pg_attribute a "
                "  ON a.attrelid = c.conrelid AND a.attnum = k.attnum), "
                "c.confrelid::regclass::text, "
                "(SELECT array_agg(a.attname ORDER BY k.ord) FROM unnest(c.confkey) "
                "  WITH ORDINALITY AS k(attnum, ord) JOIN pg_attribute a "
                "  ON a.attrelid = c.confrelid AND a.attnum = k.attnum), "
                "c.confupdtype, c.confdeltype, c.condeferrable "
                "FROM pg_constraint c WHERE c.conrelid = %s::regclass AND c.contype = 'f'",
                [t]))
        found = set()
        for name, unique, primary, constraint, has_expr, predicate, definition in conn.execute(
                "SELECT ci.relname, i.indisunique, i.indisprimary, "
                "(SELECT contype FROM pg_constraint WHERE conindid = i.indexrelid "
                "AND conrelid = i.indrelid AND contype IN ('p', 'u')), "
                "i.indexprs IS NOT NULL, pg_get_expr(i.indpred, i.indrelid), "
                "pg_get_indexdef(i.indexrelid) "
                "FROM pg_index i JOIN pg_class ci ON ci.oid = i.indexrelid "
                "WHERE i.indrelid = %s::regclass", [t]):
            if primary:
                continue
            keys = conn.execute(
                "SELECT k.attnum, a.attname, coll.collname "
                "FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey::int2[], "
                "i.indcollation::oid[]) WITH ORDINALITY AS k(attnum, colloid, ord) "
                "LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
                "LEFT JOIN pg_collation coll ON coll.oid = k.colloid "
                "WHERE i.indexrelid = %s::regclass ORDER BY k.ord", [name]).fetchall()
            cols = tuple(attname if attnum else EXPRESSION for attnum, attname, _ in keys)
            colls = tuple("NOCASE" if coll == pg_schema.NOCASE else "BINARY"
                          for _, _, coll in keys)
            expression = None
            if has_expr:
                expression = _squash(definition[definition.index("(") + 1:definition.rindex(")")])
            found.add(("unique" if constraint == "u" else "index",
                       None if constraint == "u" else name, bool(unique), cols, colls,
                       expression, _squash(predicate) if predicate else None))
        indexes[t] = frozenset(found)
        checks[t] = conn.execute("SELECT count(*) FROM pg_constraint WHERE conrelid = "
                                 "%s::regclass AND contype = 'c'", [t]).fetchone()[0]
    triggers = frozenset(
        (name, table, timing, event) for name, table, timing, event in conn.execute(
            "SELECT trigger_name, event_object_table, action_timing, event_manipulation "
            "FROM information_schema.triggers WHERE trigger_schema = 'public'"))
    return Described(frozenset(tables), columns, pks, fks, indexes, frozenset(nocase), checks,
                     triggers)


@pytest.fixture(scope="module")
def both(shared_clinic: Clinic, tmp_path_factory) -> tuple[Described, Described]:
    from datetime import UTC, datetime

    from ketalog.store.connection import open_store

    path = tmp_path_factory.mktemp("sqlite") / "fresh.db"
    open_store(path, FixedClock(datetime(2026, 11, 24, 14, 0, tzinfo=UTC))).close()
    with shared_clinic.owner() as conn:
        return describe_sqlite(path), describe_postgres(conn)


def test_same_tables(both):
    lite, pg = both
    assert pg.tables == lite.tables


def test_same_columns_types_not_null_and_defaults(both):
    lite, pg = both
    for table in sorted(lite.tables):
        assert pg.columns[table] == lite.columns[table], table


def test_same_primary_keys(both):
    lite, pg = both
    assert pg.primary_keys == lite.primary_keys


def test_same_foreign_keys(both):
    lite, pg = both
    for table in sorted(lite.tables):
        assert pg.foreign_keys[table] == lite.foreign_keys[table], table


def test_same_unique_constraints_and_indexes(both):
    lite, pg = both
    for table in sorted(lite.tables):
        assert pg.indexes[table] == lite.indexes[table], table


def test_same_case_insensitive_columns(both):
    lite, pg = both
    assert pg.nocase_columns == lite.nocase_columns
    assert len(lite.nocase_columns) >= 5


def test_same_number_of_checks(both):
    lite, pg = both
    assert pg.checks == lite.checks


def _checks(create_sql: str) -> list[str]:
    """The text of each CHECK (...) in a CREATE TABLE, whitespace and case squashed."""
    found = []
    for match in re.finditer(r"\bCHECK\s*\(", create_sql):
        depth, start = 0, match.end() - 1
        for i in range(start, len(create_sql)):
            depth += {"(": 1, ")": -1}.get(create_sql[i], 0)
            if depth == 0:
                found.append(_squash(create_sql[start:i + 1]))
                break
    return sorted(found)


def test_same_check_expressions(shared_clinic: Clinic, tmp_path: Path):
    """Each CHECK is written as SQLite has it (these expressions mean the same in both
    dialects), and the server holds every one of them."""
    from datetime import UTC, datetime

    from ketalog.store.connection import open_store

    path = tmp_path / "fresh.db"
    open_store(path, FixedClock(datetime(2026, 11, 24, 14, 0, tzinfo=UTC))).close()
    conn = sqlite3.connect(path)
    lite = {name: _checks(sql) for name, sql in conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' "
        "AND name NOT LIKE 'sqlite_%' AND name != '_sqlite_migrations'")}
    conn.close()
    server = {sql.split()[2]: _checks(sql) for sql in pg_schema.BASELINE.statements
              if sql.startswith("CREATE TABLE") and sql.split()[2] != pg_schema.MIGRATIONS_TABLE}
    assert server == lite
    with shared_clinic.owner() as pg:
        held = dict(pg.execute(
            "SELECT conrelid::regclass::text, count(*) FROM pg_constraint "
            "WHERE contype = 'c' AND connamespace = 'public'::regnamespace GROUP BY 1"))
    assert held == {t: len(c) for t, c in server.items() if c}


def test_workstation_privileges_table_by_table(shared_clinic: Clinic):
    with shared_clinic.owner() as conn:
        granted: dict[str, set[str]] = {}
        for table, privilege in conn.execute(
                "SELECT table_name, privilege_type FROM information_schema.role_table_grants "
                "WHERE grantee = %s AND table_schema = 'public'", [pg_schema.WORKSTATION_ROLE]):
            granted.setdefault(table, set()).add(privilege)
        public = conn.execute("SELECT count(*) FROM information_schema.role_table_grants "
                              "WHERE grantee = 'PUBLIC' AND table_schema = 'public'").fetchone()
    assert public == (0,)
    assert set(granted) == set(pg_schema.TABLES)
    for table, privileges in granted.items():
        assert privileges == set(pg_schema.privileges_for(table).split(", ")), table
    assert granted["audit_log"] == {"SELECT", "INSERT"}
    assert granted["vitals"] == {"SELECT", "INSERT", "UPDATE", "DELETE"}


def test_every_sqlite_trigger_has_its_server_trigger(both, shared_clinic: Clinic):
    """Same name, table, timing and event; the server adds one TRUNCATE trigger per
    protected table (TRUNCATE skips row triggers; SQLite has no TRUNCATE)."""
    lite, pg = both
    assert pg.triggers == lite.triggers  # information_schema lists no TRUNCATE trigger
    with shared_clinic.owner() as conn:
        names = {r[0] for r in conn.execute(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")}
    assert names == set(pg_schema.triggers())
    assert {n for n in names if n.endswith("_truncate")} == {
        *(f"{t}_locked_truncate" for t in ("sessions", *pg_schema.LOCKED_CHILD_TABLES)),
        *(f"{t}_no_truncate" for t in (*pg_schema.INSERT_ONLY_TABLES,
                                       *pg_schema.NO_DELETE_TABLES))}


# --- what the server refuses ------------------------------------------------------------

def insert_sql(table: str, values: dict[str, object]) -> tuple[str, list[object]]:
    return (f"INSERT INTO {table} ({', '.join(values)}) "
            f"VALUES ({', '.join(['%s'] * len(values))})", list(values.values()))


def _insert(conn, table: str, values: dict[str, object]) -> int:
    sql, params = insert_sql(table, values)
    return int(conn.execute(f"{sql} RETURNING id", params).fetchone()[0])


_uuids = itertools.count(1)


def _uuid() -> str:
    return f"00000000-0000-4000-8000-{next(_uuids):012d}"


OVERRIDES: dict[str, dict[str, object]] = {
    "dose_events": {"kind": "bolus"},
    "scores": {"phase": "pre"},
    "side_effects": {"severity": "mild"},
    "acknowledgements": {"kind": "alarm", "subject_table": "vitals"},
    "stock_movements": {"kind": "waste"},
}


def minimal_row(conn, table: str, session_id: int, user_id: int) -> dict[str, object]:
    """Every column that needs a value, with one that passes the table's checks."""
    values: dict[str, object] = {}
    for name, kind in conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = %s AND is_nullable = 'NO' "
            "AND column_default IS NULL AND is_identity = 'NO'", [table]):
        if name == "uuid":
            values[name] = _uuid()
        elif name == "session_id":
            values[name] = session_id
        elif name.endswith("_id") or name.endswith("_by"):
            values[name] = user_id
        else:
            values[name] = {"text": "x", "bigint": 1, "double precision": 1.0}[kind]
    values.update(OVERRIDES.get(table, {}))
    if table == "stock_movements":
        values["session_id"] = session_id
    return values


@dataclass
class Seeded:
    user_id: int
    patient_id: int
    session_id: int


def seed(conn) -> Seeded:
    user = _insert(conn, "users", {"uuid": _uuid(), "username": f"nurse{next(_uuids)}",
                                   "display_name": "Nina", "password_hash": "-",
                                   "created_at": NOW})
    patient = _insert(conn, "patients", {"uuid": _uuid(), "mrn": f"MRN-{next(_uuids)}",
                                         "family_name": "Doe", "given_name": "Jane",
                                         "birth_date": "1980-05-17", "created_at": NOW})
    return Seeded(user, patient, new_session(conn, patient))


def new_session(conn, patient_id: int) -> int:
    return _insert(conn, "sessions", {
        "uuid": _uuid(), "patient_id": patient_id, "series_number": 1, "series_total": 1,
        "weight_kg": 70.0, "bag_drug": "ketamine", "bag_concentration_mg_per_ml": 1.0,
        "bag_volume_ml": 100.0, "status": "completed", "created_at": NOW})


def sign(conn, session_id: int) -> None:
    conn.execute("UPDATE sessions SET status = 'signed' WHERE id = %s", [session_id])


def assert_locked(conn, sql: str, params: list[object] | None = None,
                  message: str = LOCKED_MESSAGE) -> None:
    with pytest.raises(pg_errors.IntegrityError) as caught:
        conn.execute(sql, params)
    assert message in str(caught.value)
    # the store's translation of an SQLite trigger's refusal reads the server's alike
    assert isinstance(translate_error(caught.value), RecordLocked)


@pytest.fixture
def ws(shared_clinic: Clinic) -> Iterator[object]:
    """A workstation connection to the shared database, one transaction per statement;
    each test adds rows of its own (sessions, users) and changes no one else's."""
    with shared_clinic.workstation(autocommit=True) as conn:
        yield conn


@pytest.mark.parametrize("table", pg_schema.INSERT_ONLY_TABLES)
def test_workstation_may_only_add_to_append_only_tables(ws, table: str):
    for sql in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}", f"TRUNCATE {table}"):
        with pytest.raises(pg_errors.InsufficientPrivilege):
            ws.execute(sql)


def test_audit_log_refuses_raw_update_and_delete(shared_clinic: Clinic, ws):
    entry = _insert(ws, "audit_log", {"at": NOW, "username": "nina", "action": "login",
                                      "prev_hash": "0" * 64, "entry_hash": "1" * 64})
    for sql in ("UPDATE audit_log SET username = 'someone else' WHERE id = %s",
                "DELETE FROM audit_log WHERE id = %s"):
        with pytest.raises(pg_errors.InsufficientPrivilege):
            ws.execute(sql, [entry])
    # the owner has the privilege, and meets the trigger SQLite has
    with shared_clinic.owner(autocommit=True) as owner:
        for sql in ("UPDATE audit_log SET username = 'someone else' WHERE id = %s",
                    "DELETE FROM audit_log WHERE id = %s"):
            assert_locked(owner, sql, [entry], "audit_log is append-only")
        assert_locked(owner, "TRUNCATE audit_log", None, "audit_log is append-only")
    assert ws.execute("SELECT username FROM audit_log WHERE id = %s",
                      [entry]).fetchall() == [("nina",)]


def test_workstation_keeps_ordinary_rows(ws):
    """The positive side: rows of open records are added, changed and removed."""
    s = seed(ws)
    ws.execute("UPDATE patients SET notes = 'prefers the window chair' WHERE id = %s",
               [s.patient_id])
    vitals = _insert(ws, "vitals", minimal_row(ws, "vitals", s.session_id, s.user_id))
    ws.execute("UPDATE vitals SET hr_bpm = 72 WHERE id = %s", [vitals])
    ws.execute("DELETE FROM vitals WHERE id = %s", [vitals])
    ws.execute("UPDATE sessions SET chair = '3' WHERE id = %s", [s.session_id])


@pytest.mark.parametrize("table", pg_schema.LOCKED_CHILD_TABLES)
def test_signed_session_rows_cannot_be_changed_by_the_workstation(ws, table: str):
    s = seed(ws)
    row = _insert(ws, table, minimal_row(ws, table, s.session_id, s.user_id))
    before = ws.execute(f"SELECT * FROM {table}").fetchall()
    sign(ws, s.session_id)
    assert_locked(ws, f"UPDATE {table} SET uuid = %s WHERE id = %s", [_uuid(), row])
    assert_locked(ws, f"DELETE FROM {table} WHERE id = %s", [row])
    assert_locked(ws, *insert_sql(table, minimal_row(ws, table, s.session_id, s.user_id)))
    assert ws.execute(f"SELECT * FROM {table}").fetchall() == before


@pytest.mark.parametrize("table", SESSION_CHILD_TABLES)
def test_a_row_cannot_be_moved_into_a_signed_session(ws, table: str):
    s = seed(ws)
    other = new_session(ws, s.patient_id)
    row = _insert(ws, table, minimal_row(ws, table, other, s.user_id))
    sign(ws, s.session_id)
    assert_locked(ws, f"UPDATE {table} SET session_id = %s WHERE id = %s", [s.session_id, row])


def test_signed_session_itself_is_locked(ws):
    s = seed(ws)
    sign(ws, s.session_id)
    assert_locked(ws, "UPDATE sessions SET chair = '9' WHERE id = %s", [s.session_id])
    assert_locked(ws, "DELETE FROM sessions WHERE id = %s", [s.session_id])
    with pytest.raises(pg_errors.InsufficientPrivilege):
        ws.execute("TRUNCATE sessions CASCADE")


def test_no_stock_movement_is_added_to_a_signed_session(ws):
    s = seed(ws)
    _insert(ws, "stock_movements", minimal_row(ws, "stock_movements", s.session_id, s.user_id))
    sign(ws, s.session_id)
    assert_locked(ws, *insert_sql("stock_movements",
                                  minimal_row(ws, "stock_movements", s.session_id, s.user_id)))


def test_truncate_does_not_get_around_the_lock(clinic: Clinic):
    with clinic.workstation(autocommit=True) as ws, clinic.owner(autocommit=True) as owner:
        s = seed(ws)
        _insert(ws, "vitals", minimal_row(ws, "vitals", s.session_id, s.user_id))
        owner.execute("TRUNCATE vitals")  # nothing signed in it yet
        _insert(ws, "vitals", minimal_row(ws, "vitals", s.session_id, s.user_id))
        sign(ws, s.session_id)
        assert_locked(owner, "TRUNCATE vitals")
        assert_locked(owner, "TRUNCATE sessions CASCADE")
        assert ws.execute("SELECT count(*) FROM vitals").fetchall() == [(1,)]


def test_a_lot_changes_only_by_its_recall(shared_clinic: Clinic, ws):
    s = seed(ws)
    location = _insert(ws, "stock_locations", {"uuid": _uuid(), "name": "Safe",
                                               "created_at": NOW})
    lot = _insert(ws, "stock_lots", {
        "uuid": _uuid(), "location_id": location, "product": "Ketalar 50 mg/mL",
        "strength_mg_per_ml": 50.0, "container_ml": 10.0, "lot_number": "A1",
        "expiry": "2027-01-31", "created_at": NOW})
    ws.execute("UPDATE stock_lots SET recalled = 1, recall_reason = 'maker recall' "
               "WHERE id = %s", [lot])
    assert_locked(ws, "UPDATE stock_lots SET lot_number = 'B2' WHERE id = %s", [lot],
                  "stock_lots is append-only")
    with pytest.raises(pg_errors.InsufficientPrivilege):
        ws.execute("DELETE FROM stock_lots WHERE id = %s", [lot])
    with shared_clinic.owner(autocommit=True) as owner:
        assert_locked(owner, "DELETE FROM stock_lots WHERE id = %s", [lot],
                      "stock_lots is append-only")
    assert s.user_id


def test_usernames_are_unique_whatever_their_case(ws):
    seed(ws)
    _insert(ws, "users", {"uuid": _uuid(), "username": "Alice", "display_name": "A",
                          "password_hash": "-", "created_at": NOW})
    with pytest.raises(pg_errors.UniqueViolation):
        _insert(ws, "users", {"uuid": _uuid(), "username": "alice", "display_name": "A",
                              "password_hash": "-", "created_at": NOW})
    assert ws.execute("SELECT username FROM users WHERE username = 'ALICE'").fetchall() == [
        ("Alice",)]


def test_a_row_added_while_its_session_is_being_signed_waits_and_is_refused(shared_clinic):
    """SQLite lets one writer in at a time; on a server two workstations write at once.
    The lock trigger locks the session row it reads, so an entry added while another
    workstation signs waits for the signature and is then refused, never slipping in
    beside a signed content hash that does not cover it."""
    with shared_clinic.workstation(autocommit=True) as ws:
        s = seed(ws)
        row = minimal_row(ws, "vitals", s.session_id, s.user_id)
    outcome: dict[str, BaseException | None] = {}

    def add_entry() -> None:
        with shared_clinic.workstation(autocommit=True) as other:
            other.execute("SET lock_timeout = '30s'")
            try:
                _insert(other, "vitals", row)
                outcome["error"] = None
            except psycopg.Error as exc:
                outcome["error"] = exc

    with shared_clinic.workstation() as signer, shared_clinic.owner(autocommit=True) as watch:
        sign(signer, s.session_id)  # not committed yet
        entry = threading.Thread(target=add_entry)
        entry.start()
        deadline = time.monotonic() + 30
        while not watch.execute("SELECT count(*) FROM pg_locks WHERE NOT granted"
                                ).fetchone()[0]:
            assert time.monotonic() < deadline, "the entry never waited for the signature"
            assert entry.is_alive(), f"the entry did not wait: {outcome}"
            time.sleep(0.05)
        signer.commit()
        entry.join(30)
    assert isinstance(outcome["error"], pg_errors.IntegrityError)
    assert LOCKED_MESSAGE in str(outcome["error"])
