"""``synctune recommend``: what the guide's presets and rule pick for given workloads."""

from __future__ import annotations

import json

import click

from synctune.cli._errors import OneLineErrors, friendly_errors
from synctune.policy import PRESETS, SyncSettings, seed_rule

# (name, writes/min, latency ms, freshness s): one row per regime of the guide's rule
DEFAULT_WORKLOADS = (
    ("busy writer", 30.0, 50.0, 60.0),
    ("far away", 2.0, 350.0, 20.0),
    ("fresh 20 s", 2.0, 50.0, 20.0),
    ("fresh 45 s", 2.0, 50.0, 45.0),
    ("relaxed 10 min", 0.5, 50.0, 600.0),
)


def _describe(settings: SyncSettings | None) -> str:
    if settings is None:
        return "local file, no sync"
    interval = "manual" if settings.sync_interval is None else f"{settings.sync_interval:g} s"
    extras = [n for n, on in (("on-write", settings.sync_on_write),
                              ("read-your-writes", settings.read_your_writes)) if on]
    return ", ".join([interval, *extras])


@click.command(cls=OneLineErrors)
@click.option("--write-frequency", type=float, help="Writes per minute (with the two below).")
@click.option("--network-latency", type=float, help="Network latency in ms.")
@click.option("--freshness", "data_freshness", type=float, help="Required freshness in s.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@friendly_errors
def recommend(write_frequency: float | None, network_latency: float | None,
              data_freshness: float | None, as_json: bool) -> None:
    """Settings from the guide's presets and its adjustSyncInterval rule.

    With all three workload options, evaluates the rule for that workload; otherwise prints the
    presets and the rule on a few built-in workloads.
    """
    given = (write_frequency, network_latency, data_freshness)
    if any(v is not None for v in given) and not all(v is not None for v in given):
        raise click.UsageError(
            "--write-frequency, --network-latency and --freshness go together")
    if all(v is not None for v in given):
        workloads = [("given", *given)]
        presets = []
    else:
        workloads = list(DEFAULT_WORKLOADS)
        presets = list(PRESETS.values())
    rows = [
        {"kind": "workload", "name": name, "write_frequency_per_min": wf,
         "network_latency_ms": lat, "data_freshness_s": fresh,
         "settings": _describe(seed_rule(wf, lat, fresh))}  # type: ignore[arg-type]
        for name, wf, lat, fresh in workloads
    ]
    rows += [{"kind": "preset", "name": p.name, "settings": _describe(p.settings),
              "description": p.description} for p in presets]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if presets:
        click.echo("Presets (the guide's environments):")
        for r in rows:
            if r["kind"] == "preset":
                click.echo(f"  {r['name']:<13} {r['settings']:<38} {r['description']}")
        click.echo("")
    click.echo("The guide's adjustSyncInterval rule:")
    click.echo(f"  {'workload':<15} {'writes/min':>10} {'latency ms':>10} {'fresh s':>8}  settings")
    for r in rows:
        if r["kind"] == "workload":
            click.echo(f"  {r['name']:<15} {r['write_frequency_per_min']:>10g} "
                       f"{r['network_latency_ms']:>10g} {r['data_freshness_s']:>8g}  "
                       f"{r['settings']}")
