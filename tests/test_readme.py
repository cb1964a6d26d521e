"""The README's offline examples run as written, and its two commands exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


def _block(needle: str) -> str:
    found = [b for b in BLOCKS if needle in b]
    assert len(found) == 1, f"expected one README block with {needle!r}"
    return found[0]


@pytest.mark.parametrize("needle", ["Adaptive(freshness=30", "simulate(SimConfig("])
def test_offline_example_runs(needle: str) -> None:
    namespace: dict[str, object] = {}
    exec(compile(_block(needle), f"README:{needle}", "exec"), namespace)
    assert len(namespace) > 1


def test_readme_opens_with_the_two_commands_ci_runs() -> None:
    first = re.search(r"```bash\n(.*?)```", README, flags=re.S)
    assert first is not None
    commands = [line.split("#")[0].strip() for line in first.group(1).splitlines()]
    assert commands == ["./scripts/demo.sh", "./scripts/test.sh"]
    assert "scripts/test.sh" in (ROOT / ".ci" / "run").read_text()
    for script in commands:
        assert (ROOT / script).stat().st_mode & 0o111


def test_readme_has_no_unfilled_placeholders() -> None:
    assert re.findall(r"\b[A-Z]+_TABLE\b", README) == []


def _tables(text: str) -> list[list[str]]:
    tables: list[list[str]] = []
    current: list[str] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            current.append(line.rstrip())
        elif current:
            tables.append(current)
            current = []
    return tables


def test_readme_tables_match_the_results_they_quote() -> None:
    """A README table with a results file's header is that table, row for row (a rerun that
    moves a figure must move it in the README too)."""
    quoted = 0
    for path in sorted((ROOT / "simulations" / "results").glob("*.md")):
        results = {t[0]: t for t in _tables(path.read_text())}
        for table in _tables(README):
            if table[0] in results:
                assert table == results[table[0]], f"README table differs from {path.name}"
                quoted += 1
    assert quoted >= 2  # at least the headline and the real-traffic tables
