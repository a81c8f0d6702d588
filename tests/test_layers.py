"""The layers of DESIGN.md, enforced: Qt only in ketalog/ui, SQL only in ketalog/store,
dependencies pointing one way (ui -> services -> store/reports/interop -> domain)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "ketalog"
QT_MODULES = ("PySide6", "shiboken6", "pyqtgraph")
SQL = re.compile(r"\b(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|"
                 r"CREATE\s+(TABLE|INDEX|TRIGGER)|DROP\s+(TABLE|TRIGGER)|PRAGMA\s+\w+)\b",
                 re.IGNORECASE | re.DOTALL)

# layer -> ketalog layers it may import
ALLOWED = {
    "domain": {"domain"},
    "store": {"domain", "store"},
    "reports": {"domain", "reports"},
    "interop": {"domain", "interop"},
    # paths: where this workstation keeps its own files (a clinic server's anchor log)
    "services": {"domain", "store", "services", "reports", "interop", "paths"},
    "ui": {"domain", "services", "ui", "paths", "store", "reports", "interop"},
    # the command line sits beside ui and uses the services ...
    "cli": {"domain", "services", "paths", "cli"},
}
# ... except its composition root, which alone opens the store and hands over to the GUI
COMPOSITION_ROOTS = {Path("cli", "context.py"): {"store", "ui"}}


def modules() -> list[Path]:
    return sorted(PKG.rglob("*.py"))


def layer_of(path: Path) -> str:
    rel = path.relative_to(PKG)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def imports_of(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def string_constants(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef)
                  and n.body and isinstance(n.body[0], ast.Expr)
                  and isinstance(n.body[0].value, ast.Constant)}
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)
            and isinstance(n.value, str) and id(n) not in docstrings]


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_qt_only_in_ui(path):
    if layer_of(path) == "ui":
        return
    bad = [m for m in imports_of(path) if m.split(".")[0] in QT_MODULES]
    assert not bad, f"{path} imports {bad}; Qt belongs in ketalog/ui only"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_sql_only_in_store(path):
    if layer_of(path) == "store":
        return
    bad = [s for s in string_constants(path) if SQL.search(s)]
    assert not bad, f"{path} contains SQL text {bad[:2]}; SQL belongs in ketalog/store only"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_dependencies_point_one_way(path):
    layer = layer_of(path)
    if layer not in ALLOWED:
        return  # paths, __main__, __init__ sit at the top
    allowed = ALLOWED[layer] | COMPOSITION_ROOTS.get(path.relative_to(PKG), set())
    used = {m.split(".")[1] for m in imports_of(path)
            if m.startswith("ketalog.") and len(m.split(".")) > 1}
    assert used <= allowed, f"{path} ({layer}) imports {sorted(used - allowed)}"


def test_the_scanners_catch_violations(tmp_path):
    """Guard against a layer test that can never fail."""
    sample = tmp_path / "x.py"
    sample.write_text('import PySide6.QtCore\nQ = "SELECT id FROM users"\n')
    assert [m for m in imports_of(sample) if m.split(".")[0] in QT_MODULES]
    assert [s for s in string_constants(sample) if SQL.search(s)]


def test_headless_cli_never_loads_qt(tmp_path):
    db = tmp_path / "k.sqlite"
    code = (
        "import sys\n"
        "from ketalog.cli import main\n"
        "import os; os.environ['KETALOG_PASSWORD'] = 'admin-pass-1'\n"
        f"main(['--db', {str(db)!r}, 'init', '--clinic', 'C', '--admin', 'boss'])\n"
        f"rc = main(['--db', {str(db)!r}, 'verify'])\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6','shiboken6','pyqtgraph')]\n"
        "print(rc, bad)\n"
        "sys.exit(1 if bad else rc)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_gui_start_does_not_load_reportlab():
    """Start-up time is measured against a bare Qt window: PDFs load on first use."""
    code = ("import sys, os\nos.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
            "import ketalog.ui.app, ketalog.ui.main_window, ketalog.ui.login\n"
            "bad = [m for m in sys.modules if m.startswith('reportlab')]\n"
            "print(bad[:3]); sys.exit(1 if bad else 0)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


# The contracts in pyproject.toml ([tool.importlinter]) and how many exceptions each may
# carry today: the numbers may only fall, so a widened contract fails here, not quietly.
CONTRACTS = {
    "layers": 1,
    "qt-only-in-ui": 1,
    "domain-alone": 0,
    "outputs-below-store": 0,
    "front-ends-via-services": 6,
}


def _contracts() -> dict[str, dict]:
    import tomllib
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {c["id"]: c for c in config["tool"]["importlinter"]["contracts"]}


def test_import_contracts_exist_and_are_not_widened():
    contracts = _contracts()
    assert set(contracts) >= set(CONTRACTS)
    for cid, most in CONTRACTS.items():
        ignored = contracts[cid].get("ignore_imports", [])
        assert len(ignored) <= most, f"{cid} gained exceptions: {len(ignored)} > {most}"
        assert all("*" not in line and " -> " in line for line in ignored), cid
    assert [layer.replace(" ", "") for layer in contracts["layers"]["layers"]] == [
        "ui:cli:__main__", "services", "store|reports|interop", "domain", "paths"]
    assert contracts["layers"]["type"] == "layers"
    assert all(contracts[cid]["type"] == "forbidden" for cid in CONTRACTS if cid != "layers")
    assert set(contracts["domain-alone"]["forbidden_modules"]) >= {
        f"ketalog.{p}" for p in ("store", "reports", "interop", "services", "ui", "cli")}
    assert set(contracts["outputs-below-store"]["source_modules"]) == {
        "ketalog.reports", "ketalog.interop"}
    assert set(contracts["outputs-below-store"]["forbidden_modules"]) == {
        "ketalog.store", "ketalog.services"}
    assert set(contracts["front-ends-via-services"]["forbidden_modules"]) == {
        "ketalog.store", "ketalog.reports", "ketalog.interop"}
    assert set(contracts["qt-only-in-ui"]["forbidden_modules"]) == set(QT_MODULES)
    assert not contracts["qt-only-in-ui"].get("allow_indirect_imports", False)
    assert not contracts["domain-alone"].get("allow_indirect_imports", True)
    for cid in CONTRACTS:
        assert contracts[cid].get("unmatched_ignore_imports_alerting", "error") == "error"
    packages = {p.name for p in PKG.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    qt_free = {m.split(".")[1] for m in contracts["qt-only-in-ui"]["source_modules"]}
    assert packages - {"ui"} <= qt_free, "every package but ui must be in the Qt contract"


def test_every_contract_exception_says_why():
    """Each ignore_imports line carries a comment on its own line of pyproject.toml."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    block = text.split("\n[tool.importlinter]\n", 1)[1].split("\n[tool.", 1)[0]
    ignored = [line for c in _contracts().values() for line in c.get("ignore_imports", [])]
    for entry in ignored:
        lines = [ln for ln in block.splitlines() if f'"{entry}"' in ln]
        assert lines and all(re.search(r'",\s*#\s*\S', ln) for ln in lines), entry


def test_gui_start_does_not_load_numpy():
    """numpy comes with the first chart (pyqtgraph), not at start-up; once loaded by a
    chart it works, and the store keeps working beside it."""
    code = ("import sys, os\nos.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
            "import ketalog.ui.app, ketalog.ui.main_window, ketalog.ui.login\n"
            "early = 'numpy' in sys.modules\n"
            "import pyqtgraph, numpy\n"
            "from ketalog.store.connection import open_store\n"
            "store = open_store(__import__('pathlib').Path(sys.argv[1]))\n"
            "store.close(); print(early); sys.exit(1 if early else 0)\n")
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([sys.executable, "-c", code, str(Path(tmp) / "k.sqlite")],
                             cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


# Every table has a typed store module: outside ketalog/store nobody reaches the database
# through the Store's generic, string-keyed row methods or its connection, whatever the
# table (a name held in a variable included).
STORE_LIKE = re.compile(r"(^|\.)(store|w|writer)$")  # a Store or its Writer, not a dict
ROW_METHODS = {"get", "get_by", "rows", "count", "insert", "insert_many", "update", "delete",
               "column_values", "rows_with_ids", "audit_rows", "search_patients"}
RAW_HANDLES = {"conn", "db", "engine", "chain"}


def generic_row_calls(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = [f"{path.name}:{n.lineno} .{n.func.attr}({ast.unparse(n.args[0]) if n.args else ''})"
             for n in ast.walk(tree)
             if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
             and n.func.attr in ROW_METHODS
             and STORE_LIKE.search(ast.unparse(n.func.value))]
    handles = [f"{path.name}:{n.lineno} {ast.unparse(n)}" for n in ast.walk(tree)
               if isinstance(n, ast.Attribute) and n.attr in RAW_HANDLES
               and STORE_LIKE.search(ast.unparse(n.value))]
    return calls + handles


def test_only_the_store_uses_its_generic_row_methods():
    found = [call for path in modules() if layer_of(path) != "store"
             for call in generic_row_calls(path)]
    assert found == [], f"use the entity's store module: {found}"


def test_the_entity_scan_sees_a_generic_call(tmp_path):
    sample = tmp_path / "x.py"
    sample.write_text('row = ctx.store.get("patients", 1)\nw.update(table, 1, {})\n'
                      'n = counts.get("patients", 0)\nc = self.store.conn.execute("x")\n'
                      'w.engine.commit()\n')
    assert len(generic_row_calls(sample)) == 4
