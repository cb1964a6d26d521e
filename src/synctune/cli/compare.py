"""``synctune compare``: every strategy over the same workload, network and faults."""

from __future__ import annotations

import dataclasses
import json
import math
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from synctune._files import write_text_atomically
from synctune._progress import progress_bar
from synctune.cli._errors import fail
from synctune.monitoring import ALERTS
from synctune.policy.errors import InvalidInput
from synctune.sim.choices import SCENARIO_NAMES, WRITE_MODELS

if TYPE_CHECKING:
    import pandas as pd

    from synctune.sim import SimConfig

#: simulated time (s) of a bare ``synctune compare``: the web scenario's first hour
QUICK_DURATION_S = 3600.0

DEFAULT_STRATEGIES = "periodic:60,on-write,periodic:60+on-write,seed-rule,adaptive,oracle"

#: JSON keys per strategy, in order (alerts are grouped into one object)
JSON_FIELDS = ("strategy", "syncs", "sync_failures", "bytes", "reads", "stale_read_fraction",
               "over_freshness_fraction", "staleness_mean_s", "staleness_p99_s",
               "staleness_max_s", "visibility_p99_s", "write_latency_p99_ms",
               "unsynced_writes_max", "ryw_pulls", "oracle_syncs", "read_waits",
               "read_wait_timeout_fraction", "read_wait_p50_ms", "read_wait_p99_ms",
               "watcher_syncs", "announcements", "fallback_syncs")

# (header, summary key, format)
_TABLE = (
    ("strategy", "strategy", "{}"),
    ("syncs", "syncs", "{:d}"),
    ("oracle", "oracle_syncs", "{:d}"),
    ("fails", "sync_failures", "{:d}"),
    ("MB", "bytes", "{:.1f}"),
    ("stale%", "stale_read_fraction", "{:.1f}"),
    (">D%", "over_freshness_fraction", "{:.2f}"),
    ("mean s", "staleness_mean_s", "{:.2f}"),
    ("p99 s", "staleness_p99_s", "{:.1f}"),
    ("max s", "staleness_max_s", "{:.1f}"),
    ("vis p99 s", "visibility_p99_s", "{:.1f}"),
    ("write p99 ms", "write_latency_p99_ms", "{:.0f}"),
    ("unsynced", "unsynced_writes_max", "{:d}"),
    ("alerts", "alerts", "{}"),
)
# shown only when some strategy held reads for a pull (bounded-staleness reads)
_WAIT_TABLE = (
    ("waits", "read_waits", "{:d}"),
    ("waited out%", "read_wait_timeout_fraction", "{:.1f}"),
    ("wait p50 ms", "read_wait_p50_ms", "{:.0f}"),
    ("wait p99 ms", "read_wait_p99_ms", "{:.0f}"),
)
# shown only when some strategy heard commit announcements
_CHANNEL_TABLE = (
    ("watcher", "watcher_syncs", "{:d}"),
    ("hints", "announcements", "{:d}"),
    ("fallback", "fallback_syncs", "{:d}"),
)


def _alerts(row: dict[str, Any]) -> dict[str, int]:
    return {a.name: int(row.get(f"alerts_{a.name}", 0)) for a in ALERTS}


def _json_rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in table.to_dict(orient="records"):
        item: dict[str, Any] = {k: row[k] for k in JSON_FIELDS}
        item["alerts"] = _alerts(row)
        for k, v in item.items():
            if isinstance(v, float) and not math.isfinite(v):
                item[k] = None
        out.append(item)
    return out


def _cell(fmt: str, key: str, row: dict[str, Any]) -> str:
    if key == "alerts":
        counts = _alerts(row)
        return "/".join(str(counts[a.name]) for a in ALERTS)
    value = row[key]
    if key == "bytes":
        value = value / 1e6
    elif key in ("stale_read_fraction", "over_freshness_fraction",
                 "read_wait_timeout_fraction"):
        value = 100.0 * value
    return fmt.format(int(value) if fmt == "{:d}" else value)


def _flag_names(message: str) -> str:
    """A config error about an announcement field, named as its flag."""
    for field, flag in (("announce_delay_ms", "--announce-delay-ms"),
                        ("announce_loss", "--announce-loss")):
        message = message.replace(field, flag)
    return message


def _print_table(table: pd.DataFrame, title: str) -> None:
    rows = table.to_dict(orient="records")
    waits = any(r.get("read_waits", 0) for r in rows)
    channel = any(r.get("announcements", 0) for r in rows)
    columns = _TABLE + (_WAIT_TABLE if waits else ()) + (_CHANNEL_TABLE if channel else ())
    cells = [[_cell(fmt, key, r) for _, key, fmt in columns] for r in rows]
    heads = [h for h, _, _ in columns]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(heads)]
    click.echo(title)
    click.echo("  ".join(h.ljust(w) if i == 0 else h.rjust(w)
                         for i, (h, w) in enumerate(zip(heads, widths, strict=True))))
    for c in cells:
        click.echo("  ".join(v.ljust(w) if i == 0 else v.rjust(w)
                             for i, (v, w) in enumerate(zip(c, widths, strict=True))))
    names = "/".join(a.name for a in ALERTS)
    click.echo(f"stale% = reads with staleness > 0; >D% = reads older than the freshness target; "
               f"oracle = fewest pulls keeping every read within D; alerts = {names} firings.")
    if channel:
        click.echo("watcher = the watcher's pulls (counted in syncs); hints = announcements "
                   "published; fallback = syncs while a replica's channel was down or silent.")
    if waits:
        click.echo("waits = reads held for a pull (read-wait); waited out% = of those, ran "
                   "without it; wait p50/p99 = how long a held read waited.")


def plan_nodes(config: SimConfig) -> int:
    """Replica nodes of a generated scenario run."""
    from synctune.sim.engine import resolve

    return resolve(config).nodes


def _plan(config: SimConfig, runs: int, workers: int | None, dask: str | None) -> str:
    """Refuse (one line naming the flag) a run that cannot fit in memory; describe a long one.

    Returns what to tell the user before a run of more than a few seconds, else ``""``.
    """
    from synctune.sim.cost import available_memory, estimate
    from synctune.sim.shards import shardable

    cost = estimate(config)
    free = available_memory()
    if free and cost.memory_bytes > free:
        flags = ("a shorter --duration or a smaller --trace" if config.trace is not None
                 else "lower --nodes or --duration")
        fail(f"this run needs about {cost.memory_bytes / 2**30:.1f} GiB of memory "
             f"({cost.reads:,} reads, {cost.writes:,} writes), more than the "
             f"{free / 2**30:.1f} GiB available: {flags}")
    notes = []
    if workers is not None or dask is not None:
        why = shardable(dataclasses.replace(config, detail=False))
        if why is not None:
            notes.append(f"{why}; running in one process")
    n = workers or (4 if dask is not None else 1)
    seconds = cost.seconds_on(n) * runs
    if seconds > 10 or notes:
        where = f"{n} workers" if cost.sharded and n > 1 else "one process"
        notes.insert(0, f"about {cost.events:,} events and {cost.memory_bytes / 2**30:.1f} GiB "
                        f"per strategy, roughly {_duration(seconds)} for {runs} on {where}")
    return "; ".join(notes)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _output_dir(out_dir: str) -> Path:
    """``--out``, created and proven writable before anything is simulated."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except FileExistsError:
        raise InvalidInput(f"--out must be a directory, got the file {out_dir}") from None
    except NotADirectoryError:
        raise InvalidInput(f"--out {out_dir}: a parent is a file, not a directory") from None
    except OSError as exc:
        raise InvalidInput(f"--out {out_dir}: cannot write there "
                           f"({exc.strerror or exc})") from None
    return out


@click.command()
@click.option("--trace", type=click.Path(dir_okay=False), help="Trace file (CSV or parquet).")
@click.option("--scenario", type=click.Choice(sorted(SCENARIO_NAMES)),
              help="Built-in workload (default web when no --trace).")
@click.option("--strategies", default=DEFAULT_STRATEGIES, show_default=True,
              help="Comma-separated strategy specs; 'oracle' is the physical limit.")
@click.option("--freshness", type=float, default=30.0, show_default=True,
              help="Freshness target D in seconds.")
@click.option("--duration", type=float,
              help="Simulated seconds (default: the scenario's; 1 h with no --scenario/--trace).")
@click.option("--rtt-ms", type=float, help="Median round trip in ms (0 = instant syncs).")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("--nodes", type=int, help="Replica nodes (generated scenarios).")
@click.option("--write-model", type=click.Choice(WRITE_MODELS),
              help="delegated (embedded replicas) or local-first (offline writes).")
@click.option("--failure-prob", type=float, default=0.0, show_default=True,
              help="Probability that a sync attempt fails.")
@click.option("--announce-delay-ms", type=float, default=1.0, show_default=True,
              help="Median delay of a commit announcement (announced, ms).")
@click.option("--announce-loss", type=float, default=0.0, show_default=True,
              help="Share of announcements and heartbeats lost per replica (announced).")
@click.option("--announce-outage", "announce_outages", multiple=True, metavar="START:END",
              help="A silent window of the announcement channel, in seconds (repeatable).")
@click.option("--watcher-long-poll", is_flag=True,
              help="The primary holds the watcher's pulls until a commit lands (announced).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON, one object per strategy.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False),
              help="Also write the table as DIR/compare.csv (atomically).")
@click.option("--workers", type=int,
              help="Run each strategy in shards of nodes on N local processes (delegated "
                   "writes; others run in one process).")
@click.option("--dask", metavar="ADDRESS",
              help="Run the shards on Dask: 'local' (a LocalCluster of --workers processes) "
                   "or a scheduler address.")
@click.option("--detail", "detail_dir", type=click.Path(file_okay=False),
              help="Write per-read, per-write and per-sync tables (parquet) to "
                   "DIR/<k>-<strategy>/ (runs unsharded).")
def compare(trace: str | None, scenario: str | None, strategies: str, freshness: float,
            duration: float | None, rtt_ms: float | None, seed: int, nodes: int | None,
            write_model: str | None, failure_prob: float, announce_delay_ms: float,
            announce_loss: float, announce_outages: tuple[str, ...], watcher_long_poll: bool,
            as_json: bool,
            out_dir: str | None, workers: int | None, dask: str | None,
            detail_dir: str | None) -> None:
    """Compare sync strategies on one workload: syncs, bytes, staleness, alerts.

    Every strategy sees the same workload, network and faults (same seed). The oracle column
    is the fewest pulls that keep every read within the freshness target: no strategy can do
    with fewer.
    """
    specs = _check_args(trace, scenario, strategies, seed, workers, dask, detail_dir)
    # bare ``synctune compare`` answers in seconds, not a simulated day
    quick = trace is None and scenario is None and duration is None
    if quick:
        duration = QUICK_DURATION_S
    config = _config(trace, scenario, specs[0], freshness, duration, rtt_ms, seed, nodes,
                     write_model, failure_prob, announce_delay_ms, announce_loss,
                     announce_outages, watcher_long_poll)
    sharded = workers is not None or dask is not None
    plan = _plan(config, len(specs), workers if sharded else None, dask)
    out = _output_dir(out_dir) if out_dir is not None else None
    if quick:
        click.echo(f"synctune: compare: built-in {config.scenario} scenario, "
                   f"{QUICK_DURATION_S / 3600:g} h simulated (the quick default; "
                   f"--duration, --scenario or --trace for more)", err=True)
    if plan:
        click.echo(f"synctune: compare: {plan}", err=True)
    table = _run(config, specs, workers, dask, detail_dir)
    if out is not None:
        write_text_atomically(out / "compare.csv", table.to_csv(index=False))
    if as_json:
        click.echo(json.dumps(_json_rows(table), indent=2))
        return
    first = table.iloc[0]
    title = (f"{first['workload']}: {first['nodes']} nodes, {first['duration_s']:g} s, "
             f"{first['write_model']} writes, freshness target {freshness:g} s, seed {seed}")
    _print_table(table, title)


def _check_args(trace: str | None, scenario: str | None, strategies: str, seed: int,
                workers: int | None, dask: str | None, detail_dir: str | None) -> list[str]:
    """The strategy specs, after the checks click cannot make (one line and exit 2)."""
    if trace is not None and scenario is not None:
        fail("give --trace or --scenario, not both")
    specs = [s.strip() for s in strategies.split(",")]
    if not any(specs) or not all(specs):
        fail(f"--strategies must be a comma-separated list of specs, got {strategies!r}")
    if seed < 0:
        fail(f"--seed must be >= 0, got {seed}")
    if workers is not None and workers < 1:
        fail(f"--workers must be >= 1, got {workers}")
    if detail_dir is not None and (workers is not None or dask is not None):
        fail("--detail runs unsharded: drop --workers/--dask, or drop --detail")
    return specs


def _config(trace: str | None, scenario: str | None, spec: str, freshness: float,
            duration: float | None, rtt_ms: float | None, seed: int, nodes: int | None,
            write_model: str | None, failure_prob: float, announce_delay_ms: float,
            announce_loss: float, announce_outages: tuple[str, ...],
            watcher_long_poll: bool) -> SimConfig:
    """The run's config from the flags (a bad value: one line naming the flag, exit 2)."""
    from synctune.sim import SimConfig  # the simulator loads when a comparison runs, not for --help
    from synctune.sim.run.channel import parse_outage

    try:
        windows = tuple(parse_outage(o) for o in announce_outages)
        return SimConfig(scenario=scenario or "web", trace=trace, strategy=spec,
                         freshness=freshness, duration=duration, rtt_ms=rtt_ms, seed=seed,
                         nodes=nodes, write_model=write_model, failure_prob=failure_prob,
                         announce_delay_ms=announce_delay_ms, announce_loss=announce_loss,
                         announce_outages=windows, watcher_long_poll=watcher_long_poll,
                         detail=False)  # detail tables only with --detail DIR, on disk
    except InvalidInput as exc:
        fail(_flag_names(str(exc)))


def _run(config: SimConfig, specs: list[str], workers: int | None, dask: str | None,
         detail_dir: str | None) -> pd.DataFrame:
    """Every strategy run on the config's workload, with a progress bar on a terminal."""
    from synctune.sim import compare as run_compare

    sharded = workers is not None or dask is not None
    by_nodes = config.trace is None
    total = (plan_nodes(config) if by_nodes else 1) * len(specs)
    bar = progress_bar(total, desc="compare", enabled=True, unit="node" if by_nodes else "run")
    try:
        if sharded:
            from synctune.sweep.executors import open_executor

            with open_executor(dask, workers) as executor:
                return run_compare(config, specs, executor=executor, workers=workers or 4,
                                   on_nodes=bar.update)
        return run_compare(config, specs, detail_dir=detail_dir,
                           on_nodes=bar.update if by_nodes else None,
                           on_run=None if by_nodes else (lambda _spec: bar.update(1)))
    finally:
        bar.close()
