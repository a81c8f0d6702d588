"""The clinic-server schema (store/pg_schema.py) on a real PostgreSQL server: it applies
from empty, it describes the same tables as a freshly migrated SQLite file, and the server
itself refuses what the SQLite triggers refuse, and what the workstation role may not do."""

from __future__ import annotations

import itertools
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ketalog.domain.clock import FixedClock
from ketalog.store import pg_schema
from ketalog.store.errors import RecordLocked
from ketalog.store.schema import LOCKED_MESSAGE, SESSION_CHILD_TABLES, migrations
from ketalog.store.store import translate_error

psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed")
from psycopg import errors as pg_errors  # noqa: E402

OWNER_LOGIN = "clinic_admin"
WORKSTATION_LOGIN = "workstation_1"
NOW = "2026-11-24T14:00:00.000Z"
_names = itertools.count(1)


@dataclass
class Clinic:
    server: object
    name: str

    def connect(self, user: str | None = None, **kwargs: object):
        return psycopg.connect(self.server.conninfo(self.name, user), **kwargs)  # type: ignore[attr-defined]

    def owner(self, **kwargs: object):
        return self.connect(OWNER_LOGIN, **kwargs)

    def workstation(self, **kwargs: object):
        return self.connect(WORKSTATION_LOGIN, **kwargs)


@pytest.fixture(scope="session")
def pg_roles(pg_server):
    """The owner and workstation roles, and one login of each (roles are server-wide)."""
    with psycopg.connect(pg_server.conninfo(), autocommit=True) as conn:
        for statement in pg_schema.cluster_statements():
            conn.execute(statement)
        conn.execute(pg_schema.login_statement(OWNER_LOGIN, pg_schema.OWNER_ROLE))
        conn.execute(pg_schema.login_statement(WORKSTATION_LOGIN, pg_schema.WORKSTATION_ROLE))
    return pg_server


def new_database(server) -> Clinic:
    """An empty database made as `ketalog server init` will make one."""
    name = f"clinic_{next(_names)}"
    with psycopg.connect(server.conninfo(), autocommit=True) as conn:
        conn.execute(pg_schema.create_database_statement(name))
    with psycopg.connect(server.conninfo(name), autocommit=True) as conn:
        for statement in pg_schema.database_statements(name):
            conn.execute(statement)
    return Clinic(server, name)


def migrate(clinic: Clinic, steps=pg_schema.STEPS) -> list[str]:
    with clinic.owner() as conn, conn.transaction():
        return pg_schema.apply(conn, NOW, steps=steps)


@pytest.fixture
def clinic(pg_roles) -> Clinic:
    c = new_database(pg_roles)
    migrate(c)
    return c


@pytest.fixture(scope="module")
def shared_clinic(pg_roles) -> Clinic:
    """One migrated database that the read-only tests share."""
    c = new_database(pg_roles)
    migrate(c)
    return c


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
    with pytest.raises(pg_schema.SchemaProblem, match="collation is C"):
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
        fks[t] = frozenset(
            (tuple(g[0] for g in group), group[0][1], tuple(g[2] for g in group), group[0][3],
             group[0][4]) for group in groups.values())
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
            (tuple(child), parent, tuple(parent_cols), PG_FK_ACTIONS[upd], PG_FK_ACTIONS[dele])
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
                [t])
            if not deferrable)  # SQLite checks each statement: a deferrable key would differ
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
