"""Bounded-staleness reads in the simulator: held reads, their latency, staleness and cost."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synctune.sim import SimConfig, poisson, simulate

from ._helpers import instant, single_node

D = 10.0

_TIMES = st.lists(st.floats(0.0, 200.0, allow_nan=False), max_size=40).map(sorted)
# reads end a little before the run does: no attempt starts after the end, so a read held
# across it would wait out (tests/sim/test_edges.py covers the end of a run)
_READS = st.lists(st.floats(0.0, 190.0, allow_nan=False), max_size=40).map(sorted)


def _run(spec: str, primary, reads, duration: float = 200.0, **kw):  # type: ignore[no-untyped-def]
    base = dict(strategy=spec, freshness=D, duration=duration, read_your_writes=False,
                rtt_ms=80.0, seed=3)
    base.update(kw)
    return simulate(SimConfig(**base), workload=single_node(primary, reads, duration))


def _over(res) -> int:  # type: ignore[no-untyped-def]
    return round(res.summary["over_freshness_fraction"] * res.summary["reads"])


@settings(max_examples=50, deadline=None)
@given(_TIMES, _READS, st.sampled_from([0.0, 0.3]), st.sampled_from([0.05, 0.5, 3.0]))
def test_only_reads_that_waited_out_are_older_than_d(primary, reads, failure_prob,
                                                     wait) -> None:  # type: ignore[no-untyped-def]
    """A read the replica vouches for, or one held until its pull succeeded, is never older
    than D; only held reads that ran without their pull can be (here syncs take < D)."""
    res = _run(f"manual+read-wait:{wait}", primary, reads, failure_prob=failure_prob)
    s = res.summary
    timeouts = round(s["read_wait_timeout_fraction"] * s["read_waits"])
    assert _over(res) <= timeouts
    if failure_prob == 0.0 and wait >= 3.0:  # every pull succeeds well within the wait
        assert _over(res) == 0 and timeouts == 0
    assert s["read_waits"] <= s["reads"]
    if reads:
        assert s["read_waits"] >= 1  # the first read cannot be vouched for


@settings(max_examples=50, deadline=None)
@given(_TIMES, _READS, st.sampled_from([0.0, 0.3]), st.sampled_from([0.05, 1.0]))
def test_a_read_waits_at_most_its_wait(primary, reads, failure_prob, wait) -> None:  # type: ignore[no-untyped-def]
    """Against the same run without waits (same latency draws), each read's latency grows by
    at least 0 and at most the longest wait."""
    held = _run(f"manual+read-wait:{wait}", primary, reads, failure_prob=failure_prob)
    plain = _run("manual", primary, reads, failure_prob=failure_prob)
    extra = (held.reads["latency_ms"].to_numpy() - plain.reads["latency_ms"].to_numpy()) / 1e3
    assert np.all(extra >= -1e-9) and np.all(extra <= wait + 1e-9)
    assert held.summary["read_wait_p99_ms"] <= wait * 1e3 + 1e-6
    assert np.count_nonzero(extra > 1e-12) <= held.summary["read_waits"]


@settings(max_examples=15, deadline=None)
@given(_TIMES, st.lists(st.floats(12.0, 200.0, allow_nan=False), max_size=40).map(sorted),
       st.sampled_from([0.0, 0.3]))
def test_waits_that_are_never_needed_change_nothing(primary, reads, failure_prob) -> None:  # type: ignore[no-untyped-def]
    """A schedule that always vouches within D (every 1 s, D = 10 s, reads after the first
    sync) gives the same syncs and staleness with the read-wait part as without: reads fed one
    by one behave as the batched reads do."""
    base = _run("periodic:1", primary, reads, rtt_ms=5.0)
    both = _run("periodic:1+read-wait:1", primary, reads, rtt_ms=5.0)
    assert both.summary["read_waits"] == 0
    assert base.syncs[["start", "end", "ok"]].equals(both.syncs[["start", "end", "ok"]])
    assert np.array_equal(base.reads["staleness_s"].to_numpy(),
                          both.reads["staleness_s"].to_numpy())
    for key in ("syncs", "over_freshness_fraction", "staleness_mean_s", "read_latency_p99_ms"):
        assert base.summary[key] == both.summary[key]


def test_off_by_default_nothing_waits_and_the_summary_says_so() -> None:
    res = _run("budgeted", poisson(0.2, 200.0, np.random.default_rng(1)),
               poisson(0.05, 200.0, np.random.default_rng(2)))
    s = res.summary
    assert s["read_waits"] == 0 and s["read_wait_timeout_fraction"] == 0.0
    assert s["read_wait_p50_ms"] == s["read_wait_p99_ms"] == 0.0


def test_a_held_read_runs_when_its_pull_ends_and_sees_what_came_before_it() -> None:
    # a commit at 5 s; the only read at 100 s is held for a pull started at 100 s
    res = _run("manual+read-wait:2", [5.0, 99.0], [100.0], rtt_ms=100.0, rtt_jitter=0.0)
    syncs = res.syncs
    assert list(syncs["start"]) == [100.0] and bool(syncs["ok"].iloc[0])
    read = res.reads.iloc[0]
    assert read["staleness_s"] == 0.0
    waited = syncs["end"].iloc[0] - 100.0
    assert 0.1 <= waited < 0.2  # one round trip, plus transfer
    assert res.summary["read_waits"] == 1
    assert res.summary["read_wait_p50_ms"] == pytest.approx(waited * 1e3)


def test_a_primary_that_does_not_answer_costs_a_read_only_its_wait() -> None:
    from synctune.sim import Outage

    res = _run("manual+read-wait:0.5", [1.0], [50.0, 50.2, 60.0], rtt_ms=50.0,
               outages=(Outage(0.0, 1000.0),))
    lat = res.reads["latency_ms"].to_numpy() / 1e3
    # the first two wait out their 0.5 s (the attempt hangs until its timeout); the third comes
    # while that attempt has hung longer than the wait, so it runs at once
    assert lat[0] == pytest.approx(0.5, abs=0.01) and lat[1] == pytest.approx(0.5, abs=0.01)
    assert lat[2] < 0.01
    assert res.summary["read_waits"] == 2 and res.summary["read_wait_timeout_fraction"] == 1.0


@pytest.mark.parametrize("rate", [0.05, 0.5])
def test_pulls_on_demand_follow_the_renewal_cycle(rate: float) -> None:
    """With Poisson reads at rate r and nothing else syncing, each pull is followed by D s the
    replica vouches for, then by the wait for the next read (memoryless, mean 1/r): one pull
    per D + 1/r seconds."""
    duration = 40_000.0
    reads = poisson(rate, duration, np.random.default_rng(int(rate * 100)))
    cfg = instant(strategy="manual+read-wait:1", freshness=D, duration=duration, seed=1,
                  detail=False)
    res = simulate(cfg, workload=single_node([], reads, duration))
    cycle = D + 1.0 / rate
    expected = duration / cycle
    # a renewal count's sd is sqrt(T * var / mean^3), with var = 1 / r^2
    sd = math.sqrt(duration * (1.0 / rate**2) / cycle**3)
    assert abs(res.summary["syncs"] - expected) < 4 * sd + 1
    assert res.summary["over_freshness_fraction"] == 0.0
    assert res.summary["read_waits"] == res.summary["syncs"]


def test_the_read_wait_study_runs_and_its_doc_example_builds_the_spec(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import importlib.util
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("read_wait", root / "simulations" /
                                                  "read_wait.py")
    assert spec is not None and spec.loader is not None
    study = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(study)
    table = study.run(0.5, 0)
    on_demand = table[table["strategy"] == "manual+read-wait:1"]
    assert (on_demand["over_freshness_fraction"] == 0.0).all()
    assert (on_demand["read_waits"] > 0).all()
    assert "| 600 s |" in study.markdown(table, 0.5)
    doc = (root / "docs" / "bounded_staleness.md").read_text()
    block = re.findall(r"```python\n(.*?)```", doc, flags=re.S)
    namespace: dict[str, object] = {}
    exec(compile(block[0], "bounded_staleness.md", "exec"), namespace)
    built = namespace["strategy"]
    assert built.max_read_wait == 1.0 and built.name == "budgeted+read-wait"  # type: ignore[attr-defined]


def test_a_read_during_an_app_sync_waits_for_the_attempt_after_it() -> None:
    wl = single_node([5.0], [99.95], 200.0, syncs=[99.9])
    cfg = SimConfig(strategy="manual+read-wait:1", freshness=D, duration=200.0,
                    read_your_writes=False, rtt_ms=80.0, rtt_jitter=0.0, seed=3)
    res = simulate(cfg, workload=wl)
    syncs = res.syncs
    # the app's sync started before the read, so the read needs the next attempt
    assert len(syncs) == 2 and syncs["start"].iloc[0] == 99.9
    assert syncs["start"].iloc[1] == pytest.approx(syncs["end"].iloc[0])
    waited = syncs["end"].iloc[1] - 99.95
    assert res.reads["latency_ms"].iloc[0] / 1e3 >= waited
    assert res.summary["read_waits"] == 1
    assert res.summary["read_wait_p50_ms"] == pytest.approx(waited * 1e3)


def test_reads_asked_about_one_by_one_are_still_counted_in_one_second_batches() -> None:
    from synctune.policy import Manual, ReadWait
    from synctune.sim.engine import read_batches

    seen: list[tuple[float, int]] = []

    class Counting(Manual):
        def _after_read(self, now: float, count: int) -> None:
            seen.append((now, count))

    reads = np.sort(np.random.default_rng(4).uniform(0.0, 100.0, 400))
    cfg = instant(strategy=lambda d, rng: Counting() | ReadWait(d, 1.0), freshness=1000.0,
                  duration=100.0, detail=False)
    res = simulate(cfg, workload=single_node([], reads, 100.0))
    assert res.summary["read_waits"] == 1  # only the first read: nothing vouched for yet
    # the first read's pull splits its batch; every other batch is the batched reads' own
    times, counts = read_batches(reads)
    assert sum(n for _, n in seen) == reads.size
    assert seen[-(times.size - 1):] == list(zip(times[1:].tolist(), counts[1:].tolist(),
                                                 strict=True))


def test_held_reads_merge_across_shards_as_the_whole_run_counts_them() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from synctune.sim.shards import simulate_sharded

    cfg = SimConfig(scenario="microservice", nodes=5, duration=900.0, seed=2, detail=False,
                    strategy="periodic:120+read-wait:0.2", freshness=5.0, failure_prob=0.1)
    whole = simulate(cfg).summary
    with ThreadPoolExecutor(2) as pool:
        sharded = simulate_sharded(cfg, pool, workers=2).summary
    assert whole["read_waits"] > 0 and whole["read_wait_timeout_fraction"] > 0
    for key in ("syncs", "reads", "read_waits", "read_wait_timeout_fraction",
                "read_wait_p50_ms", "read_wait_p99_ms", "over_freshness_fraction"):
        assert sharded[key] == whole[key], key
