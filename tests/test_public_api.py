"""The public API: every advertised name resolves, and importing the core (or asking for
any command's ``--help``) stays light."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import synctune
import synctune.live
import synctune.sim
from synctune.cli.main import COMMANDS


@pytest.mark.parametrize("name", synctune.__all__)
def test_every_exported_name_resolves(name: str) -> None:
    assert getattr(synctune, name) is not None


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        synctune.no_such_thing  # noqa: B018


def test_importing_the_policy_core_does_not_load_the_simulator_stack() -> None:
    code = ("import sys, synctune; s = synctune.seed_rule(1, 2, 3); "
            "print(','.join(m for m in ('pandas', 'simpy', 'synctune.sim', 'synctune.live') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True)
    assert out.stdout.strip() == ""


ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
        *sorted((ROOT / "notebooks").glob("*.ipynb"))]
# ``from synctune import A, B`` (one line or parenthesised), in prose, code blocks and notebooks
_FROM_SYNCTUNE = re.compile(r"from synctune import \(?([\w\s,\\n]+?)\)?(?:\\n|\n|\"|$)")


def _names_the_docs_import() -> set[str]:
    names: set[str] = set()
    for doc in DOCS:
        for group in _FROM_SYNCTUNE.findall(doc.read_text()):
            names |= {n.strip() for n in group.replace("\\n", ",").split(",") if n.strip()}
    return names


def test_the_docs_import_their_names_from_the_top_level() -> None:
    used = _names_the_docs_import()
    assert {"Adaptive", "SimConfig", "simulate"} <= used  # the scan sees the README's imports
    assert used <= set(synctune.__all__)


def test_the_strategies_the_readme_is_about_are_top_level() -> None:
    from synctune.policy import Budgeted, ReadWait

    assert synctune.Budgeted is Budgeted and synctune.ReadWait is ReadWait
    assert {"Budgeted", "ReadWait"} <= set(synctune.__all__)


@pytest.mark.parametrize(("package", "name"), [
    *(("synctune.sim", n) for n in synctune.sim.__all__),
    *(("synctune.live", n) for n in synctune.live.__all__),
])
def test_every_lazy_package_name_resolves(package: str, name: str) -> None:
    module = importlib.import_module(package)
    value = getattr(module, name)
    assert value is not None and name in dir(module)


@pytest.mark.parametrize("package", ["synctune.sim", "synctune.live"])
def test_lazy_packages_refuse_unknown_names(package: str) -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        importlib.import_module(package).no_such_thing  # noqa: B018


def test_sim_compare_is_the_function_even_when_its_module_loads_first() -> None:
    # the submodule synctune.sim.compare shares the function's name
    code = ("import sys, importlib\n"
            "m = importlib.import_module('synctune.sim.compare')\n"
            "from synctune.sim import compare\n"
            "print(callable(compare), compare is m.compare is sys.modules['synctune.sim'].compare)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True)
    assert out.stdout.split() == ["True", "True"]


def test_scenario_names_match_the_scenarios() -> None:
    from synctune.sim.choices import SCENARIO_NAMES
    from synctune.sim.elaborate.scenarios import SCENARIOS

    assert tuple(SCENARIOS) == SCENARIO_NAMES


# what no --help needs: the simulator's stack, the controllers, the HTTP probe
_HEAVY = ("numpy", "pandas", "simpy", "pyarrow", "synctune.sim.engine",
          "synctune.live.control.controller", "synctune.live.replica.probe", "asyncio")


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_subcommand_help_loads_neither_the_simulator_nor_the_controllers(command: str) -> None:
    code = ("import sys\nfrom synctune.cli.main import main\n"
            f"try:\n    main([{command!r}, '--help'], prog_name='synctune')\n"
            "except SystemExit as e:\n    assert e.code == 0, e.code\n"
            f"print('LOADED', ','.join(m for m in {_HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True)
    assert "Usage:" in out.stdout
    assert out.stdout.strip().endswith("LOADED")
