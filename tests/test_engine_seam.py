"""The seam the database engines plug into: only the modules that are about the local
SQLite file may speak SQLite (its driver, sqlite-utils, SQLCipher, its catalog and
pragmas), only the clinic server's modules may speak PostgreSQL (psycopg), and everything
else in the store goes through `engine_api` and `Store`, so it runs on either."""

from __future__ import annotations

import ast
import re
from pathlib import Path

STORE = Path(__file__).resolve().parent.parent / "ketalog" / "store"

# The SQLite engine and the tools that only exist for a local file (opening, migrating,
# encrypting, copying it; verify's look at its catalog). The list only shrinks.
SQLITE_MODULES = {
    "__init__",          # hides numpy from sqlite-utils' import
    "engine",            # which SQLite library opens a file
    "sqlite_engine",     # the Engine implementation
    "connection",        # opening a file: header, probe, pragmas, migrations
    "schema",            # the SQLite DDL and its migrations
    "backup",            # the online backup API and the copy's checks
    "encryption",        # SQLCipher conversion
    "verify",            # the catalog checks of verify
    "history",           # verify's replay of the audit log over every keyed table
    "signature_checks",  # verify's trigger and signature checks
}
# The clinic server's engine, its opening, its DDL, its change notifications, verify's
# look at its catalog, the move of a file's history onto it and its dumps.
POSTGRES_MODULES = {"pg_engine", "pg_connection", "pg_schema", "pg_changes", "pg_verify",
                    "pg_migrate", "pg_backup"}
DRIVERS = {"sqlite3", "sqlite_utils", "sqlcipher3"}
PG_DRIVERS = {"psycopg", "psycopg_binary", "psycopg_pool"}
DIALECT = re.compile(r"\bPRAGMA\b|\bsqlite_master\b|BEGIN IMMEDIATE|COLLATE NOCASE|strftime\(|julianday\(|lastrowid|INSERT OR |\bGLOB\b", re.IGNORECASE)


def driver_imports(path: Path, drivers: set[str] = DRIVERS,
                   engine_module: str = "ketalog.store.sqlite_engine") -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    found = [n for n in names if n.split(".")[0] in drivers]
    found += [n for n in names if n == engine_module or n.startswith(engine_module + ".")]
    return found


def neutral_modules() -> list[Path]:
    return [p for p in sorted(STORE.glob("*.py"))
            if p.stem not in SQLITE_MODULES | POSTGRES_MODULES]


def test_engine_neutral_modules_do_not_speak_sqlite():
    found = {p.name: driver_imports(p) for p in neutral_modules() if driver_imports(p)}
    assert found == {}, f"SQLite driver imports outside the SQLite modules: {found}"


def test_engine_neutral_modules_use_no_sqlite_dialect():
    found = [f"{p.name}:{n}" for p in neutral_modules()
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if DIALECT.search(line)]
    assert found == [], f"SQLite-only SQL outside the SQLite modules: {found}"


def test_engine_neutral_and_sqlite_modules_do_not_speak_postgresql():
    found = {p.name: driver_imports(p, PG_DRIVERS, "ketalog.store.pg_engine")
             for p in sorted(STORE.glob("*.py")) if p.stem not in POSTGRES_MODULES}
    found = {name: imports for name, imports in found.items() if imports}
    assert found == {}, f"PostgreSQL driver imports outside the server modules: {found}"


def test_the_lists_name_real_modules():
    assert {p.stem for p in STORE.glob("*.py")} >= SQLITE_MODULES | POSTGRES_MODULES


def test_the_scan_sees_a_driver(tmp_path):
    sample = tmp_path / "x.py"
    sample.write_text("import sqlite3\nfrom sqlite_utils import Database\n"
                      "from ketalog.store.sqlite_engine import translate_error\n")
    assert len(driver_imports(sample)) == 3
    assert DIALECT.search('conn.execute("PRAGMA table_info(x)")')
