"""No import circles among ketalog's own modules. An AST scan, so it sees what a run
may not reach: imports inside functions (the lazy ones that keep Qt and ReportLab out of
headless start-ups) count as much as module-level ones and those under TYPE_CHECKING,
since each of them is a dependency that points back. A circle is reported as its path,
each step with its line and whether it is at module level or inside a function."""

from __future__ import annotations

import ast
from collections import deque
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "ketalog"


@dataclass(frozen=True)
class Edge:
    target: str
    line: int
    in_function: str  # "" at module level, else the enclosing function's name

    def where(self) -> str:
        scope = f"in {self.in_function}()" if self.in_function else "module level"
        return f"line {self.line}, {scope}"


def module_names(pkg: Path) -> dict[str, Path]:
    """Dotted name -> file for every module of the package rooted at `pkg`."""
    names: dict[str, Path] = {}
    for path in sorted(pkg.rglob("*.py")):
        parts = list(path.relative_to(pkg.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _known(name: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of `name` that is one of ours (an attribute of a module
    imports that module)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


class _Imports(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool, modules: dict[str, Path]) -> None:
        self.module, self.modules = module, modules
        self.package = module if is_package else module.rpartition(".")[0]
        self.functions: list[str] = []
        self.edges: list[Edge] = []

    def _add(self, name: str | None, node: ast.stmt) -> None:
        target = _known(name or "", self.modules)
        if target is not None and target != self.module:
            self.edges.append(Edge(target, node.lineno, ".".join(self.functions)))

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    visit_FunctionDef = _function  # noqa: N815 - ast.NodeVisitor's naming
    visit_AsyncFunctionDef = _function  # noqa: N815

    def visit_Import(self, node: ast.Import) -> None:  # noqa: N802
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:  # noqa: N802
        if node.level:
            base = self.package.split(".")
            base = base[:len(base) - (node.level - 1)]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module or ""
        for alias in node.names:
            submodule = f"{source}.{alias.name}"
            self._add(submodule if submodule in self.modules else source, node)


def import_graph(pkg: Path) -> dict[str, list[Edge]]:
    modules = module_names(pkg)
    graph: dict[str, list[Edge]] = {}
    for name, path in modules.items():
        visitor = _Imports(name, path.name == "__init__.py", modules)
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        graph[name] = visitor.edges
    return graph


def circles(graph: dict[str, list[Edge]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in {e.target for e in graph[v]}:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def describe(group: list[str], graph: dict[str, list[Edge]]) -> str:
    """One path round the circle, from the group's first module back to it."""
    members, start = set(group), group[0]
    came: dict[str, tuple[str, Edge]] = {}
    queue = deque([start])
    while queue:
        v = queue.popleft()
        for edge in graph[v]:
            if edge.target not in members or edge.target in came:
                continue
            came[edge.target] = (v, edge)
            if edge.target == start:
                queue.clear()
                break
            queue.append(edge.target)
    steps: list[str] = []
    node = start
    while True:
        previous, edge = came[node]
        steps.append(f"  {previous} -> {node} ({edge.where()})")
        node = previous
        if node == start:
            break
    return "\n".join(reversed(steps))


def report(pkg: Path) -> str:
    graph = import_graph(pkg)
    return "\n".join(f"import circle among {', '.join(g)}:\n{describe(g, graph)}"
                     for g in circles(graph))


def test_no_import_circle_among_ketalog_modules():
    found = report(PKG)
    assert not found, ("a module imports, directly or through others, one that imports it "
                       "back; move the shared piece to a module of its own:\n" + found)


def test_the_scan_finds_module_and_function_level_circles(tmp_path):
    """Guard against a circle test that can never fail."""
    pkg = tmp_path / "sample"
    (pkg / "sub").mkdir(parents=True)
    files = {
        "__init__.py": "",
        "a.py": "from sample import b\n",
        "b.py": "def later():\n    from sample.a import thing\n    return thing\n",
        "c.py": "import sample.sub.d\n",
        "sub/__init__.py": "",
        "sub/d.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                    "    from ..c import x\n",
        "e.py": "from sample import a, c\nfrom sample.sub import d\n",  # reaches both, in none
    }
    for name, text in files.items():
        (pkg / name).write_text(text, encoding="utf-8")
    graph = import_graph(pkg)
    assert circles(graph) == [["sample.a", "sample.b"], ["sample.c", "sample.sub.d"]]
    found = report(pkg)
    assert "sample.a -> sample.b (line 1, module level)" in found
    assert "sample.b -> sample.a (line 2, in later())" in found
    assert "sample.sub.d -> sample.c (line 3, module level)" in found
    (pkg / "b.py").write_text("def later():\n    return 1\n", encoding="utf-8")
    assert circles(import_graph(pkg)) == [["sample.c", "sample.sub.d"]]
