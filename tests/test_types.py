"""The type checker's ground: domain, store and services are strict and free of
`# type: ignore`; every other package may only lose ignores, never gain them (mypy itself
runs in `make test`)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "ketalog"
IGNORE = re.compile(r"#\s*type:\s*ignore")

# package -> most `# type: ignore` comments it may hold today (the numbers only fall)
MOST_IGNORES = {
    "domain": 0,
    "store": 0,
    "services": 0,
    "reports": 3,
    "interop": 7,
    "ui": 26,
    "cli": 12,
}


def ignores_in(package: str) -> int:
    return sum(len(IGNORE.findall(p.read_text(encoding="utf-8")))
               for p in (PKG / package).rglob("*.py"))


def test_type_ignores_only_fall():
    counts = {package: ignores_in(package) for package in MOST_IGNORES}
    risen = {p: (n, MOST_IGNORES[p]) for p, n in counts.items() if n > MOST_IGNORES[p]}
    assert not risen, f"`# type: ignore` added (now, allowed): {risen}"


def test_every_package_is_counted():
    packages = {p.name for p in PKG.iterdir() if (p / "__init__.py").exists()}
    assert packages <= set(MOST_IGNORES), packages - set(MOST_IGNORES)


def test_the_counter_sees_an_ignore(tmp_path):
    """Guard against a count that can never rise."""
    assert IGNORE.findall("x = f()  # type: ignore[arg-type]\ny = 1  #type:ignore\n") == [
        "# type: ignore", "#type:ignore"]


STRICT = ("domain", "store", "services")


def test_the_core_packages_are_strict():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    for package in STRICT:
        module = f"ketalog.{package}.*"
        found = [o for o in config["overrides"] if module in o["module"]]
        assert len(found) == 1, f"{module}: one override, the strict one ({found})"
        assert all(found[0].get(flag) for flag in (
            "disallow_untyped_defs", "disallow_any_generics", "warn_return_any",
            "disallow_untyped_calls", "no_implicit_reexport")), module
        assert "disable_error_code" not in found[0], module
        assert found[0].get("warn_unused_ignores", True), module
        assert MOST_IGNORES[package] == 0, package
    assert config["packages"] == ["ketalog"] and config["warn_unused_ignores"]
