"""The layering the docs promise, checked on the source: who may import whom."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "synctune"


def _absolute(path: Path, node: ast.ImportFrom) -> str:
    """The absolute module an ``ImportFrom`` names, resolving relative imports from ``path``."""
    if node.level == 0:
        return node.module or ""
    package = ["synctune", *path.relative_to(SRC).parent.parts]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _synctune_imports(path: Path) -> set[str]:
    """Second-level synctune packages imported by one module (``synctune.sim`` -> ``sim``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [_absolute(path, node)]
            # ``from .. import sim`` names the package in the imported names
            if not node.module:
                names = [f"{names[0]}.{a.name}" for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "synctune":
                found.add(parts[1] if len(parts) > 1 else "")
    return found


def _package_imports(package: str) -> dict[str, set[str]]:
    return {str(p.relative_to(SRC)): _synctune_imports(p)
            for p in sorted((SRC / package).rglob("*.py"))}


def test_policy_core_imports_nothing_else_from_synctune() -> None:
    offenders = {f: deps - {"policy"} for f, deps in _package_imports("policy").items()
                 if deps - {"policy"}}
    assert offenders == {}


@pytest.mark.parametrize(("package", "forbidden"), [("sim", "live"), ("live", "sim")])
def test_simulator_and_live_controller_never_import_each_other(package: str,
                                                               forbidden: str) -> None:
    offenders = [f for f, deps in _package_imports(package).items() if forbidden in deps]
    assert offenders == []


def test_monitoring_depends_only_on_policy() -> None:
    offenders = {f: deps - {"policy", "monitoring"}
                 for f, deps in _package_imports("monitoring").items()
                 if deps - {"policy", "monitoring"}}
    assert offenders == {}


def test_the_scan_sees_imports() -> None:
    # guard against a scan that finds nothing and so passes vacuously
    deps = _synctune_imports(SRC / "policy" / "periodic.py")
    assert "policy" in deps


def test_the_scan_resolves_relative_imports() -> None:
    probe = SRC / "live" / "probe.py"
    code = "from ..sim import engine\nfrom . import replica\nfrom ..policy.strategy import X\n"
    mods = [_absolute(probe, stmt) for stmt in ast.parse(code).body
            if isinstance(stmt, ast.ImportFrom)]
    assert mods == ["synctune.sim", "synctune.live", "synctune.policy.strategy"]
