"""``synctune compare`` at fleet scale: shards, cost refused up front, detail tables."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from synctune.cli.main import main

SMALL = ["--scenario", "microservice", "--nodes", "6", "--duration", "600",
         "--strategies", "periodic:30,adaptive", "--json"]


def _run(*args: str):
    return CliRunner().invoke(main, ["compare", *args])


def test_workers_give_the_same_counts_as_one_process() -> None:
    one, two = _run(*SMALL), _run(*SMALL, "--workers", "2")
    assert one.exit_code == 0 and two.exit_code == 0, (one.output, two.output)
    a, b = json.loads(one.output), json.loads(two.output)
    for ra, rb in zip(a, b, strict=True):
        for key in ("syncs", "oracle_syncs", "bytes", "reads", "stale_read_fraction",
                    "staleness_p99_s", "staleness_max_s", "alerts"):
            assert ra[key] == rb[key], key


def test_a_run_that_cannot_fit_is_refused_before_it_starts() -> None:
    r = _run("--scenario", "microservice", "--nodes", "100000", "--duration", "2592000")
    assert r.exit_code == 2
    lines = [line for line in r.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "GiB" in lines[0] and "--nodes or --duration" in lines[0]


def test_bounds_on_nodes_and_duration_are_one_line_errors() -> None:
    for args, word in ((["--nodes", "200000"], "nodes"), (["--duration", "1e12"], "duration")):
        r = _run("--scenario", "microservice", *args)
        assert r.exit_code == 2 and word in r.output and "Traceback" not in r.output


def test_detail_writes_parquet_tables_per_strategy(tmp_path: Path) -> None:
    r = _run("--scenario", "microservice", "--nodes", "3", "--duration", "300",
             "--strategies", "periodic:30,on-write", "--detail", str(tmp_path / "d"), "--json")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    for k, row in enumerate(rows, start=1):
        (d,) = (tmp_path / "d").glob(f"{k}-*")
        assert d.name == f"{k}-{row['strategy'].replace(':', '_')}"
        reads = pd.read_parquet(d / "reads.parquet")
        assert len(reads) == row["reads"]
        syncs = pd.read_parquet(d / "syncs.parquet")
        assert int(syncs["ok"].sum()) == row["syncs"]


def test_detail_and_shards_do_not_mix(tmp_path: Path) -> None:
    r = _run(*SMALL, "--workers", "2", "--detail", str(tmp_path))
    assert r.exit_code == 2 and "--detail" in r.output
    assert list(tmp_path.iterdir()) == []
