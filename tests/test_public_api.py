"""The public API: every advertised name resolves, and importing the core stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest

import synctune


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
