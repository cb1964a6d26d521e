"""``synctune recommend``: what the guide's presets and rule pick for given workloads, or, with
``--trace``, the fixed ``sync_interval`` that meets a freshness target on recorded traffic."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from synctune.policy import PRESETS, SyncSettings, seed_rule

if TYPE_CHECKING:
    from synctune.sim import Advice

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


def _tuner_verdict(advice: Advice) -> str:
    """Which tuner to run on this traffic, with the figures that decide it."""
    tuner = advice.tuner
    if tuner is None:
        return ("Tuner: neither adaptive nor budgeted meets the target on this trace; run the "
                "fixed interval above.")
    other = "adaptive" if tuner == "budgeted" else "budgeted"
    mine, theirs = advice.alternatives[tuner], advice.alternatives[other]
    versus = (f"{int(theirs['syncs']):,} for {other}" if theirs["meets_target"]
              else f"{other} misses the target")
    return (f"Tuner to run: {tuner} (synctune run --strategy {mine['spec']}): "
            f"{int(mine['syncs']):,} syncs within the target, {versus}.")


#: which tuner to run when there is no trace to decide on
TUNER_GUIDANCE = (
    ("budgeted", "budgeted:0.01",
     "when the app's reads go through synctune (record_query / notify_read): it pulls only "
     "where and when reads come, and a replica that serves no reads plans no pulls"),
    ("adaptive", "adaptive:0.01",
     "when reads are not reported to synctune, or the replica must stay current even while "
     "nobody reads it: it pulls at the cadence the change rate needs"),
)


def _tuner_guidance() -> None:
    click.echo("")
    click.echo("synctune's tuners (to run instead of a fixed interval; with --trace, recommend "
               "simulates both on your traffic and names the one to run):")
    for name, spec, when in TUNER_GUIDANCE:
        click.echo(f"  {name:<9} --strategy {spec:<14} {when}")


def _advice_table(advice: Advice, trace: str) -> None:
    share = f"{100 * advice.stale_share:g} %"
    hours = advice.duration / 3600.0
    click.echo(f"{trace}: {advice.duration:,.0f} s of traffic; target: at most {share} of reads "
               f"older than D = {advice.freshness:g} s.")
    verdict = "meets the target" if advice.met else \
        "NO fixed interval meets the target; this is the shortest tried"
    click.echo(f"Fixed sync_interval: {advice.sync_interval:g} s -> "
               f"{advice.fixed['syncs']:,} syncs ({advice.fixed['syncs'] / hours:.1f}/h), "
               f"{100 * advice.over_freshness_fraction:.2f} % of reads older than D "
               f"({verdict}).")
    if advice.capped:
        click.echo(f"The trace is too short to test longer intervals ({advice.longest:g} s is half "
                   f"of it): record a longer one before going above.")
    click.echo("")
    rows = [("fixed (recommended)", f"periodic:{advice.sync_interval:g}", advice.fixed,
             advice.met)]
    rows += [(name, alt["spec"], alt, alt["meets_target"])
             for name, alt in advice.alternatives.items()]
    click.echo(f"  {'strategy':<20} {'spec':<22} {'syncs':>8} {'syncs/h':>8} {'MB':>8} "
               f"{'>D %':>7} {'p99 s':>7}  meets")
    for name, spec, fig, meets in rows:
        click.echo(f"  {name:<20} {spec:<22} {int(fig['syncs']):>8,} "
                   f"{int(fig['syncs']) / hours:>8.1f} {int(fig['bytes']) / 1e6:>8.2f} "
                   f"{100 * float(fig['over_freshness_fraction']):>7.2f} "
                   f"{float(fig['staleness_p99_s']):>7.1f}  {'yes' if meets else 'no'}")
    click.echo(f"  {'oracle (the limit)':<20} {'':<22} {advice.oracle_syncs:>8,} "
               f"{advice.oracle_syncs / hours:>8.1f}")
    click.echo("syncs and MB: all nodes of the trace over its whole length; adaptive and "
               "budgeted = synctune's tuners (their expected cost if they drive the syncs); "
               "oracle = fewest pulls keeping every read within D.")
    click.echo(_tuner_verdict(advice))
    click.echo("")
    click.echo("Python (libsql):")
    click.echo(advice.python())
    click.echo("")
    click.echo("TypeScript (@libsql/client):")
    click.echo(advice.typescript())


@click.command()
@click.option("--trace", type=click.Path(dir_okay=False),
              help="Recorded traffic (CSV or parquet): find the fixed interval for it.")
@click.option("--stale-share", type=float, default=0.01, show_default=True,
              help="With --trace: target share of reads older than --freshness.")
@click.option("--write-frequency", type=float, help="Writes per minute (with the two below).")
@click.option("--network-latency", type=float,
              help="Network latency in ms (with --trace: the replay's median round trip).")
@click.option("--freshness", "data_freshness", type=float, help="Required freshness in s.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def recommend(trace: str | None, stale_share: float, write_frequency: float | None,
              network_latency: float | None, data_freshness: float | None,
              as_json: bool) -> None:
    """Settings from the guide's presets and its adjustSyncInterval rule, or from your traffic.

    With --trace and --freshness, replays the trace and prints the fixed sync_interval that
    keeps reads older than the freshness target within --stale-share with the fewest syncs,
    beside the seed rule, the presets and the adaptive tuner, and settings to paste into
    libsql (Python) or @libsql/client (TypeScript). With the three workload options,
    evaluates the rule for that workload; otherwise prints the presets and the rule on a few
    built-in workloads.
    """
    if trace is not None:
        _recommend_for_trace(trace, stale_share, write_frequency, network_latency,
                             data_freshness, as_json)
        return
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
    if presets:  # the full listing (a given workload's JSON stays its one row)
        rows += [{"kind": "tuner", "name": name, "spec": spec, "when": when}
                 for name, spec, when in TUNER_GUIDANCE]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    _rule_table(rows, bool(presets))


def _recommend_for_trace(trace: str, stale_share: float, write_frequency: float | None,
                         network_latency: float | None, data_freshness: float | None,
                         as_json: bool) -> None:
    """The fixed interval found by replaying ``trace``, beside the other settings."""
    if write_frequency is not None:
        raise click.UsageError("--trace replaces --write-frequency (the trace has the writes)")
    if data_freshness is None:
        raise click.UsageError("--trace needs --freshness (the target D in seconds)")
    from synctune.sim import SimConfig, advise  # the simulator loads only when asked for

    # the replay's network: the given latency as its median round trip, else the default
    config = SimConfig(rtt_ms=network_latency) if network_latency is not None else None
    advice = advise(trace, data_freshness, stale_share, config=config)
    if as_json:
        click.echo(json.dumps(advice.to_dict(), indent=2))
    else:
        _advice_table(advice, trace)


def _rule_table(rows: list[dict[str, Any]], presets: bool) -> None:
    """The presets (when listed), the rule per workload and the tuner guidance, as text."""
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
    _tuner_guidance()
