"""The layering the docs promise, checked on the source: who may import whom."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "synctune"


def _absolute(path: Path, node: ast.ImportFrom) -> str:
    """The absolute module an ``ImportFrom`` names, resolving relative imports from ``path``."""
    if node.level == 0:
        return node.module or ""
    package = ["synctune", *path.relative_to(SRC).parent.parts]  # a module's own package
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
    probe = SRC / "live" / "replica" / "probe.py"
    code = "from ...sim import engine\nfrom . import base\nfrom ...policy.strategy import X\n"
    mods = [_absolute(probe, stmt) for stmt in ast.parse(code).body
            if isinstance(stmt, ast.ImportFrom)]
    assert mods == ["synctune.sim", "synctune.live.replica", "synctune.policy.strategy"]


# --- inside live: layers, bottom first. A module imports only from its own layer or below:
# app (connections the app holds) <- replica (the seam and its adapters, which hand out app
# connections) <- announce (hints between replicas) <- control (the controller) <- ops (doctor,
# Prometheus). ``timing`` (the clock) sits below them all: the fake replica and the controller
# share one timer. The package ``__init__`` re-exports names from every layer and is above them.
LIVE_LAYERS = ("timing", "app", "replica", "announce", "control", "ops")
LIVE = SRC / "live"


def _module(path: Path) -> str:
    parts = ["synctune", *path.relative_to(SRC).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _live_graph() -> dict[str, set[str]]:
    """Each module of live -> the live modules it imports (at any depth of the file: also
    imports for type checking and inside functions, which a circle would otherwise hide in)."""
    return _graph(LIVE)


def _graph(root: Path) -> dict[str, set[str]]:
    """Each module under ``root`` -> the modules under ``root`` it imports, at any depth."""
    modules = {_module(p): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(path, node)
                # ``from pkg import mod`` imports the module ``pkg.mod``; else the package
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                           for a in node.names]
            else:
                continue
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    found.add(target)
        graph[name] = found
    return graph


def _layer(module: str) -> int:
    """Rank of ``module`` in :data:`LIVE_LAYERS`; the package itself ranks above them all."""
    parts = module.split(".")
    if len(parts) == 2:
        return len(LIVE_LAYERS)
    return LIVE_LAYERS.index(parts[2])


def _back_arrows(graph: Mapping[str, set[str]]) -> list[str]:
    return sorted(f"{a} -> {b}" for a, deps in graph.items() for b in deps
                  if _layer(b) > _layer(a))


def _circles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Every module set that imports itself round (strongly connected, more than one)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if dep not in index:
                visit(dep)
                low[node] = min(low[node], low[dep])
            elif dep in stack:
                low[node] = min(low[node], index[dep])
        if low[node] == index[node]:
            part = stack[stack.index(node):]
            del stack[stack.index(node):]
            if len(part) > 1:
                found.append(sorted(part))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_live_module_sits_in_a_layer() -> None:
    loose = [m for m in _live_graph() if len(m.split(".")) > 2
             and m.split(".")[2] not in LIVE_LAYERS]
    assert loose == []


def test_no_live_import_runs_back_up_the_layers() -> None:
    assert _back_arrows(_live_graph()) == []


def test_live_has_no_import_circles() -> None:
    assert _circles(_live_graph()) == []


def test_the_live_scan_sees_the_layers_it_checks() -> None:
    graph = _live_graph()
    assert "synctune.live.replica.base" in graph["synctune.live.control.sync_run"]
    assert "synctune.live.app.connection" in graph["synctune.live.replica.base"]
    # ``from synctune.live.app import fork_guard`` is an arrow to the module, not the package
    assert "synctune.live.app.fork_guard" in graph["synctune.live.app.worker_slot"]


def test_the_layer_checks_catch_what_they_forbid() -> None:
    up = {"synctune.live.app.connection": {"synctune.live.control.controller"},
          "synctune.live.control.controller": set()}
    assert _back_arrows(up) == ["synctune.live.app.connection -> synctune.live.control.controller"]
    assert _back_arrows({"synctune.live.ops.doctor": {"synctune.live"}}) != []
    round_ = {"synctune.live.replica.a": {"synctune.live.replica.b"},
              "synctune.live.replica.b": {"synctune.live.replica.c"},
              "synctune.live.replica.c": {"synctune.live.replica.a"},
              "synctune.live.replica.d": {"synctune.live.replica.a"}}
    assert _circles(round_) == [["synctune.live.replica.a", "synctune.live.replica.b",
                                 "synctune.live.replica.c"]]


# The packages, bottom up: a package may import its own layer and those below, never above.
# ``sim`` and ``live`` share a layer and never import each other (tested above); the private
# top-level helpers (``_files``, ``_extras``...) form the bottom layer with ``policy``.
PACKAGE_LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"policy", "_extras", "_files", "_lazy_names", "_progress", "_trace_format",
               "_version"}),
    frozenset({"monitoring"}),
    frozenset({"sim", "live"}),
    frozenset({"sweep"}),
    frozenset({"cli"}),
)


def _top_level_units() -> dict[str, list[Path]]:
    """Each package or top-level module of ``synctune`` with its files (facades excluded)."""
    units: dict[str, list[Path]] = {}
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        if len(rel.parts) == 1 and rel.stem in {"__init__", "__main__"}:
            continue  # the facade and the entry point sit above every layer
        units.setdefault(rel.parts[0] if len(rel.parts) > 1 else rel.stem, []).append(path)
    return units


def _layer_of(unit: str) -> int:
    for level, layer in enumerate(PACKAGE_LAYERS):
        if unit in layer:
            return level
    raise AssertionError(f"{unit} is in no layer: add it to PACKAGE_LAYERS")


def _upward_arrows(unit: str, paths: list[Path]) -> list[str]:
    level = _layer_of(unit)
    return [f"{path.name} -> {dep or 'synctune'}" for path in paths
            for dep in sorted(_synctune_imports(path))
            if dep == "" or _layer_of(dep) > level]  # "": the facade, above every layer


def test_every_unit_has_a_layer_and_no_arrow_runs_back_up() -> None:
    upward = [arrow for unit, paths in _top_level_units().items()
              for arrow in _upward_arrows(unit, paths)]
    assert upward == []


@pytest.mark.parametrize("line", ["from synctune.sim import engine",
                                  "from synctune import SimConfig",
                                  "import synctune.cli.main"])
def test_the_layer_scan_catches_an_upward_arrow(tmp_path: Path, line: str) -> None:
    made_up = tmp_path / "made_up.py"
    made_up.write_text(line + "\n")
    assert _upward_arrows("monitoring", [made_up]) != []
    assert _upward_arrows("cli", [made_up]) == ([] if "synctune." in line else
                                                 ["made_up.py -> synctune"])


# Inside ``sim`` the stage folders follow a run: ``run`` never reaches into ``reduce`` (a node
# records, the reduction reads the records), and no stage folder imports what is built on whole
# runs at ``sim/`` (the engine and the tools over runs). ``elaborate`` and ``run`` import each
# other's modules (an elaborated node is a run's ``ReplicaNode``), so they are not layers.
SIM = SRC / "sim"
SIM_STAGES = ("elaborate", "run", "reduce")
WHOLE_RUNS = frozenset({"engine", "compare", "shards", "advice", "hindsight", "curves", "cost"})


def _sim_stage_arrows(graph: Mapping[str, set[str]]) -> list[str]:
    def where(module: str) -> str:
        return module.split(".")[2] if module.count(".") >= 2 else ""

    return sorted(f"{a} -> {b}" for a, deps in graph.items() for b in deps
                  if where(a) in SIM_STAGES
                  and (where(b) in WHOLE_RUNS or (where(a), where(b)) == ("run", "reduce")))


def test_sim_stages_import_neither_later_stages_nor_whole_run_tools() -> None:
    graph = _graph(SIM)
    assert {m.split(".")[2] for m in graph if m.count(".") >= 3} == set(SIM_STAGES)
    assert _sim_stage_arrows(graph) == []


def test_the_sim_stage_scan_catches_what_it_forbids() -> None:
    made_up = {"synctune.sim.run.node": {"synctune.sim.reduce.reads"},
               "synctune.sim.elaborate.trace": {"synctune.sim.engine"},
               "synctune.sim.reduce.reads": {"synctune.sim.run.node", "synctune.sim.config"}}
    assert _sim_stage_arrows(made_up) == ["synctune.sim.elaborate.trace -> synctune.sim.engine",
                                          "synctune.sim.run.node -> synctune.sim.reduce.reads"]
