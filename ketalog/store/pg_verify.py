"""verify's look at a clinic server's own catalog, beside signature_checks' and history's
for the SQLite file: every protection trigger pg_schema creates is present, enabled and
defined as pg_schema defines it (its definition as the server reads it back with
pg_get_triggerdef), the functions they call have the code pg_schema gives them, and the
workstation role (and PUBLIC) hold exactly the privileges pg_schema grants, table by
table. Also the catalog the history replay needs: the keyed tables and their columns'
defaults. Plain SQL through the store's connection, no driver of its own."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from ketalog.store import pg_schema
from ketalog.store.engine_api import Connection
from ketalog.store.history import keyed_tables_of

PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
# pg_trigger.tgenabled: 'O' fires (origin and local sessions), 'A' always; 'D' disabled,
# 'R' only on a replica.
_FIRES = frozenset({"O", "A"})
_WHEN = re.compile(r" WHEN \((?P<condition>.*)\) EXECUTE FUNCTION ")
_LITERAL = re.compile(r"'([^']*)'")
_ON = re.compile(r" ON (?P<table>[a-z_][a-z0-9_]*) ")


def _deparsed_condition(condition: str) -> str:
    """A WHEN condition of pg_schema's triggers (terms joined by OR, each a comparison of
    OLD/NEW columns or with a text literal) as the server prints it back."""
    terms = [_LITERAL.sub(r"'\1'::text", t).replace("NEW.", "new.").replace("OLD.", "old.")
             for t in condition.split(" OR ")]
    if len(terms) == 1:
        return f"({terms[0]})"
    return "(" + " OR ".join(f"({t})" for t in terms) + ")"


def expected_definition(sql: str, schema: str) -> str:
    """pg_schema's CREATE TRIGGER text as pg_get_triggerdef returns it once created in
    `schema`: the table schema-qualified, the WHEN condition deparsed."""
    sql = _ON.sub(lambda m: f" ON {schema}.{m['table']} ", sql, count=1)
    return _WHEN.sub(lambda m: f" WHEN ({_deparsed_condition(m['condition'])}) "
                               "EXECUTE FUNCTION ", sql, count=1)


def expected_functions(steps: Sequence[pg_schema.Step] = pg_schema.STEPS) -> dict[str, str]:
    """Name -> body of every function the schema steps create (what pg_proc.prosrc holds)."""
    found: dict[str, str] = {}
    for step in steps:
        for statement in step.statements:
            if statement.startswith("CREATE FUNCTION "):
                name = statement.split()[2].split("(")[0]
                found[name] = statement.split("$fn$")[1]
    return found


def trigger_problems(conn: Connection) -> list[str]:
    schema = str(conn.execute("SELECT current_schema()").fetchone()[0])
    expected = {name: expected_definition(sql, schema)
                for name, sql in pg_schema.triggers().items()}
    found = {str(name): (str(definition), str(enabled)) for name, definition, enabled in
             conn.execute(
                 "SELECT t.tgname, pg_get_triggerdef(t.oid), t.tgenabled FROM pg_trigger t "
                 "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n "
                 "ON n.oid = c.relnamespace WHERE NOT t.tgisinternal "
                 "AND n.nspname = current_schema()")}
    problems = []
    missing = sorted(set(expected) - set(found))
    if missing:
        problems.append(f"protection triggers missing (records could be changed): "
                        f"{', '.join(missing)}")
    changed = sorted(n for n in expected if n in found and found[n][0] != expected[n])
    if changed:
        problems.append(f"protection triggers replaced by different code (they may no "
                        f"longer protect anything): {', '.join(changed)}")
    disabled = sorted(n for n in expected if n in found and found[n][1] not in _FIRES)
    if disabled:
        problems.append(f"protection triggers disabled (records could be changed): "
                        f"{', '.join(disabled)}")
    foreign = sorted(set(found) - set(expected))
    if foreign:
        problems.append(f"triggers ketalog never creates (added outside ketalog): "
                        f"{', '.join(foreign)}")
    return problems + function_problems(conn)


def function_problems(conn: Connection) -> list[str]:
    expected = expected_functions()
    found = {str(name): str(body) for name, body in conn.execute(
        "SELECT p.proname, p.prosrc FROM pg_proc p JOIN pg_namespace n "
        "ON n.oid = p.pronamespace WHERE n.nspname = current_schema()")}
    problems = []
    missing = sorted(set(expected) - set(found))
    if missing:
        problems.append(f"protection trigger functions missing: {', '.join(missing)}")
    changed = sorted(n for n in expected if n in found and found[n] != expected[n])
    if changed:
        problems.append(f"protection trigger functions replaced by different code (the "
                        f"triggers calling them may no longer protect anything): "
                        f"{', '.join(changed)}")
    return problems


def grant_problems(conn: Connection, tables: Sequence[str],
                   workstation: str = pg_schema.WORKSTATION_ROLE) -> list[str]:
    """Each table's privileges held by the workstation role and by PUBLIC against
    pg_schema.privileges_for (PUBLIC holds none)."""
    problems = []
    for table in sorted(tables):
        allowed = {p.strip() for p in pg_schema.privileges_for(table).split(",")}
        for grantee, expected in ((workstation, allowed), ("public", set())):
            held = {privilege for privilege in PRIVILEGES if conn.execute(
                "SELECT has_table_privilege(?, ?, ?)", [grantee, table, privilege]
            ).fetchone()[0]}
            who = "every database user" if grantee == "public" else f"the role {grantee}"
            extra = sorted(held - expected)
            if extra:
                problems.append(f"{table}: {who} may {', '.join(extra)} (granted outside "
                                "ketalog; the records could be changed)")
            lacking = sorted(expected - held)
            if lacking:
                problems.append(f"{table}: {who} lacks {', '.join(lacking)} (revoked "
                                "outside ketalog)")
    return problems


def history_catalog(conn: Connection, columns: Mapping[str, Sequence[str]]
                    ) -> dict[str, dict[str, str | None]]:
    """The keyed tables of the server with their columns' defaults (SQL expressions),
    for history.history_problems."""
    defaults: dict[str, dict[str, str | None]] = {}
    for table, column, default in conn.execute(
            "SELECT table_name, column_name, column_default FROM information_schema.columns "
            "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"):
        defaults.setdefault(str(table), {})[str(column)] = (
            None if default is None else str(default))
    return {table: defaults.get(table, {}) for table in keyed_tables_of(columns)}
