"""The notebooks run top to bottom (small default parameters) and are committed without outputs."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def kernel_name(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # a kernelspec for this very interpreter (the project's venv), found first on JUPYTER_PATH,
    # so no user- or system-wide "python3" kernel can stand in for it
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / "synctune-venv"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "synctune (venv)", "language": "python"}))
    mp = pytest.MonkeyPatch()
    mp.setenv("JUPYTER_PATH", str(root))
    yield "synctune-venv"
    mp.undo()


def test_there_are_notebooks() -> None:
    assert len(NOTEBOOKS) >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path: Path, kernel_name: str) -> None:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, kernel_name=kernel_name, timeout=240,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if "image/png" in o.get("data", {})]
    assert images, f"{path.name} drew no figure"


PUBLISHED = NOTEBOOKS[0].parent / "executed" if NOTEBOOKS else Path("notebooks/executed")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_published_executed_copy_is_current_and_shows_its_figures(path: Path) -> None:
    """notebooks/executed/ holds what readers open; scripts/publish_notebooks.py writes it."""
    copy = PUBLISHED / path.name
    assert copy.is_file(), f"run scripts/publish_notebooks.py: {copy} is missing"
    clean, executed = nbformat.read(path, as_version=4), nbformat.read(copy, as_version=4)
    nbformat.validate(executed)
    assert [c.source for c in executed.cells] == [c.source for c in clean.cells], \
        f"{copy.name} is stale: run scripts/publish_notebooks.py"
    code = [c for c in executed.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code)
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs)
