"""Slim install: the core imports no third-party stack, and a missing extra is one line, exit 2.

Missing packages are simulated in a subprocess by a meta-path finder that refuses them (as an
install without the extra would), not by uninstalling anything.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from synctune._extras import MissingExtra, import_extra, require

HEAVY = ("numpy", "pandas", "simpy", "matplotlib", "pyarrow", "turso", "libsql",
         "prometheus_client", "tqdm", "dask", "distributed")

# run synctune's CLI (or any code) with some top-level packages made unimportable
BLOCKER = textwrap.dedent("""
    import importlib.abc, sys
    BLOCKED = set(sys.argv[1].split(","))
    class Refuse(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None
    sys.meta_path.insert(0, Refuse())
    for loaded in [m for m in sys.modules if m.split(".")[0] in BLOCKED]:
        del sys.modules[loaded]
    sys.argv = ["synctune", *sys.argv[2:]]
    from synctune.cli.main import entry
    entry()
""")


def _without(blocked: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", BLOCKER, blocked, *args], capture_output=True,
                          text=True, timeout=120, cwd=cwd)


def test_core_policy_and_live_controller_import_no_third_party_stack() -> None:
    code = ("import sys, synctune, synctune.policy, synctune.live, synctune.live.replica.factory, "
            "synctune.monitoring, synctune.cli.main\n"
            "from synctune.live import AsyncSyncController, SyncController  # load on use\n"
            "s = synctune.Adaptive(freshness=30.0); s.start(0.0); s.decide(0.0)\n"
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True)
    assert out.stdout.strip() == ""


def test_the_check_sees_a_heavy_import() -> None:
    # the probe above would pass vacuously if sys.modules never showed these packages
    code = ("import sys; from synctune.sim import simulate\n"
            "print('numpy' in sys.modules, 'pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True)
    assert out.stdout.split() == ["True", "True"]


@pytest.mark.parametrize(("blocked", "args", "extra"), [
    ("numpy", ["compare"], "sim"),
    ("simpy", ["compare", "--help"], "sim"),
    ("pandas", ["sweep", "--seeds", "1"], "sim"),
    ("numpy", ["recommend", "--trace", "t.csv", "--freshness", "30"], "sim"),
    # the simulator writes parquet itself, so pyarrow comes with the sim extra
    ("pyarrow", ["sweep", "--seeds", "1", "--duration", "60", "--out", "store"], "sim"),
    ("pyarrow", ["compare", "--trace", "t.parquet", "--duration", "60"], "sim"),
    ("turso", ["run", "--db", "x.db", "--url", "http://127.0.0.1:9", "--freshness", "5"],
     "turso"),
    ("libsql", ["run", "--db", "x.db", "--url", "http://127.0.0.1:9", "--freshness", "5",
                "--adapter", "libsql"], "libsql"),
    ("prometheus_client", ["run", "--db", "x.db", "--url", "http://127.0.0.1:9",
                           "--freshness", "5", "--metrics-port", "0"], "prometheus"),
    ("turso", ["doctor", "--url", "http://127.0.0.1:9", "--db", "x.db"], "turso"),
    ("distributed", ["sweep", "--seeds", "1", "--duration", "60", "--dask", "local"], "dask"),
])
def test_missing_extra_is_one_line_naming_it_and_exit_2(tmp_path: Path, blocked: str,
                                                        args: list[str], extra: str) -> None:
    (tmp_path / "t.parquet").write_bytes(b"PAR1")
    (tmp_path / "t.csv").write_text("t,node,op\n1,a,read\n")
    out = _without(blocked, *args, cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert f"pip install 'synctune[{extra}]'" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "Traceback" not in out.stderr
    # nothing was opened or written before the check
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.parquet"]


# the import names each extra provides (the test below checks them against pyproject.toml)
SIM_MODULES = {"numpy": "numpy", "pandas": "pandas", "simpy": "simpy", "tqdm": "tqdm",
               "pyarrow": "pyarrow"}


def test_the_sim_extra_alone_runs_compare_and_sweep(tmp_path: Path) -> None:
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    sim = pyproject["project"]["optional-dependencies"]["sim"]
    assert {re.split(r"[<>=\[]", d)[0] for d in sim} == set(SIM_MODULES)
    others = ",".join(m for m in HEAVY if m not in SIM_MODULES.values())
    out = _without(others, "compare", "--duration", "60", "--strategies", "periodic:60")
    assert out.returncode == 0, out.stderr
    out = _without(others, "sweep", "--scenarios", "microservice", "--seeds", "1",
                   "--duration", "60", "--workers", "1", "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr


def test_help_and_policy_commands_work_without_any_extra() -> None:
    out = _without(",".join(HEAVY), "--help")
    assert out.returncode == 0 and "compare" in out.stdout
    out = _without(",".join(HEAVY), "recommend", "--json")
    assert out.returncode == 0 and '"preset"' in out.stdout


def test_open_replica_names_the_extra_in_the_library_too() -> None:
    code = ("from synctune import open_replica\n"
            "try:\n    open_replica('x.db', 'http://127.0.0.1:9')\n"
            "except ImportError as exc:\n    print(type(exc).__name__, exc)\n")
    out = subprocess.run([sys.executable, "-c", BLOCKER.replace(
        "from synctune.cli.main import entry\nentry()", code), "turso"],
        capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == ("MissingExtra the turso adapter needs the turso extra: "
                                  "pip install 'synctune[turso]'")


def test_require_and_import_extra() -> None:
    require("json", "none", "json")  # present: no error
    with pytest.raises(MissingExtra, match=r"pip install 'synctune\[x\]'") as info:
        require("the thing", "x", "json", "no_such_module_here")
    assert info.value.extra == "x" and info.value.name == "no_such_module_here"
    assert import_extra("f", "x", "json").dumps([1]) == "[1]"
    with pytest.raises(MissingExtra):
        import_extra("f", "x", "no_such_module_here.sub")
