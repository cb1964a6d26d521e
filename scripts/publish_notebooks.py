"""Execute every notebook in notebooks/ and publish the executed copy, plots included, in
notebooks/executed/ (what readers open to see the figures without running anything).

    .venv/bin/python scripts/publish_notebooks.py        # about a minute

The notebooks themselves stay committed without outputs; the test suite executes them and
checks that each published copy has the same cells, its figures and no error.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
PUBLISHED = NOTEBOOKS / "executed"


def publish(path: Path, kernel_name: str) -> Path:
    """Execute ``path`` and write the executed copy; return the copy's path."""
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, kernel_name=kernel_name, timeout=600,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    if errors:
        raise SystemExit(f"{path.name}: {errors[0].get('ename')}: {errors[0].get('evalue')}")
    nb.metadata.pop("widgets", None)
    PUBLISHED.mkdir(exist_ok=True)
    out = PUBLISHED / path.name
    nbformat.write(nb, out)
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        # a kernel for this very interpreter, found first on JUPYTER_PATH
        spec = Path(tmp) / "kernels" / "synctune-venv"
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "synctune (venv)", "language": "python"}))
        os.environ["JUPYTER_PATH"] = tmp
        for path in sorted(NOTEBOOKS.glob("*.ipynb")):
            start = time.perf_counter()
            out = publish(path, "synctune-venv")
            print(f"{out.relative_to(ROOT)} ({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
