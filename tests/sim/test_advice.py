"""The advisor: the best fixed interval in hindsight, and settings to paste, on a real trace."""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from synctune.policy import PRESETS, Decision, Periodic, SyncStrategy
from synctune.sim import (
    NodeLoad,
    SimConfig,
    Workload,
    advise,
    best_fixed_interval,
    compare,
    save_trace,
    simulate,
)
from synctune.sim.advice import alternative_specs, paste_interval, pick_tuner


@pytest.fixture(scope="module")
def trace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two hours of one app node reading and writing, and other clients writing on the primary."""
    gen = np.random.default_rng(7)
    duration = 7200.0
    reads = np.sort(gen.uniform(0, duration, 4000))
    writes = np.sort(gen.uniform(0, duration, 60))
    primary = np.sort(gen.uniform(0, duration, 300))
    wl = Workload({"app": NodeLoad(reads, writes, np.full(writes.size, 200, dtype=np.int64),
                                   np.empty(0))},
                  duration, primary, np.full(primary.size, 300, dtype=np.int64))
    path = tmp_path_factory.mktemp("advice") / "traffic.csv"
    save_trace(wl, path)
    return path


def _over(trace: Path, spec: str, freshness: float) -> float:
    cfg = SimConfig(trace=str(trace), strategy=spec, freshness=freshness, detail=False)
    return float(simulate(cfg).summary["over_freshness_fraction"])


def test_best_fixed_interval_meets_the_target_and_half_again_longer_does_not(
        trace: Path) -> None:
    cfg = SimConfig(trace=str(trace), freshness=30.0)
    found = best_fixed_interval(cfg, 0.01, steps=8)
    assert found.met
    assert found.over_freshness_fraction <= 0.01
    assert found.summary["strategy"] == f"periodic:{found.interval:g}"
    # recomputed from scratch, not taken from the search
    assert _over(trace, f"periodic:{found.interval:g}", 30.0) == found.over_freshness_fraction
    assert _over(trace, f"periodic:{1.5 * found.interval:.6g}", 30.0) > 0.01


def test_no_fixed_interval_meets_an_impossible_target(trace: Path) -> None:
    # a 3 s round trip cannot keep reads within 1 s of the primary
    cfg = SimConfig(trace=str(trace), freshness=1.0, rtt_ms=3000.0)
    found = best_fixed_interval(cfg, 0.0, steps=2)
    assert not found.met
    assert found.interval == pytest.approx(0.05)
    assert found.over_freshness_fraction > 0.0


def test_advice_interval_meets_the_target_and_lists_the_alternatives(trace: Path) -> None:
    advice = advise(str(trace), 30.0, 0.02)
    assert advice.met
    assert advice.over_freshness_fraction <= 0.02
    assert _over(trace, f"periodic:{advice.sync_interval:g}", 30.0) == \
        advice.over_freshness_fraction
    names = set(advice.alternatives)
    assert names == {"seed-rule", "adaptive", "budgeted"} | {
        f"preset:{p.name}" for p in PRESETS.values() if p.syncs}
    assert advice.alternatives["adaptive"]["spec"] == "adaptive:0.02"
    assert advice.alternatives["budgeted"]["spec"] == "budgeted:0.02"
    # the tuner named is one meeting the target with no more syncs than the other one (a tie
    # goes to the lower share of reads older than D, then to the name)
    tuners = {n: advice.alternatives[n] for n in ("adaptive", "budgeted")}
    meeting = {n: (int(t["syncs"]), float(t["over_freshness_fraction"]), n)
               for n, t in tuners.items() if t["meets_target"]}
    assert advice.tuner == (min(meeting.values())[2] if meeting else None)
    # budgeted's figures are its own simulation on the trace, not a copy of adaptive's
    again = simulate(SimConfig(trace=str(trace), strategy="budgeted:0.02", freshness=30.0,
                               detail=False)).summary
    assert tuners["budgeted"]["syncs"] == again["syncs"]
    for alt in advice.alternatives.values():
        assert alt["meets_target"] == (alt["over_freshness_fraction"] <= 0.02)
    # the fewest syncs among fixed intervals meeting the target is never below the limit
    assert advice.fixed["syncs"] >= advice.oracle_syncs
    assert advice.read_your_writes  # the app writes
    assert f"sync_interval={advice.sync_interval:g})" in advice.python()
    assert f"syncInterval: {advice.sync_interval:g}," in advice.typescript()
    assert "readYourWrites: true" in advice.typescript()
    data = json.loads(json.dumps(advice.to_dict()))
    assert data["sync_interval"] == advice.sync_interval
    assert data["over_freshness_fraction"] == advice.over_freshness_fraction
    assert data["tuner"] == advice.tuner


def test_alternative_specs_name_valid_strategies() -> None:
    specs = alternative_specs(0.05)
    compare(SimConfig(scenario="microservice", duration=60.0), list(specs.values()))
    assert specs["adaptive"] == "adaptive:0.05"
    assert specs["budgeted"] == "budgeted:0.05"


def _tuner_row(syncs: int, share: float, target: float = 0.01) -> dict[str, Any]:
    return {"syncs": syncs, "over_freshness_fraction": share, "meets_target": share <= target}


def test_the_tuner_with_fewer_syncs_is_picked_only_if_it_meets_the_target() -> None:
    assert pick_tuner({"adaptive": _tuner_row(90, 0.005),
                       "budgeted": _tuner_row(80, 0.009)}) == "budgeted"
    assert pick_tuner({"adaptive": _tuner_row(90, 0.005),
                       "budgeted": _tuner_row(80, 0.02)}) == "adaptive"
    assert pick_tuner({"adaptive": _tuner_row(90, 0.05),
                       "budgeted": _tuner_row(80, 0.02)}) is None
    # equal syncs: the one with fewer reads older than D
    assert pick_tuner({"adaptive": _tuner_row(80, 0.002),
                       "budgeted": _tuner_row(80, 0.009)}) == "adaptive"


@given(st.integers(0, 10_000), st.floats(0.0, 0.05), st.integers(0, 10_000),
       st.floats(0.0, 0.05))
def test_the_picked_tuner_meets_the_target_with_the_fewest_syncs(
        syncs_a: int, share_a: float, syncs_b: int, share_b: float) -> None:
    rows = {"adaptive": _tuner_row(syncs_a, share_a), "budgeted": _tuner_row(syncs_b, share_b)}
    picked = pick_tuner(rows)
    meeting = [n for n, r in rows.items() if r["meets_target"]]
    if not meeting:
        assert picked is None
        return
    assert picked in meeting
    assert all(rows[picked]["syncs"] <= rows[n]["syncs"] for n in meeting)


@given(st.floats(min_value=1e-3, max_value=1e5, allow_nan=False))
def test_paste_interval_rounds_down_by_less_than_a_tenth(interval: float) -> None:
    pasted = paste_interval(interval)
    assert 0.0 < pasted <= interval
    if interval >= 10.0:
        assert pasted == int(pasted)
        assert interval - pasted < 1.0
    else:
        assert pasted >= 0.9 * interval


class EveryTenAfterWrites(SyncStrategy):
    """A user's own policy: 10 s after the first unsynced write, else every 300 s."""

    name = "every-ten-after-writes"

    def _decide(self, now: float) -> Decision:
        first = self.state.first_unsynced
        if first is not None:
            return Decision(first + 10.0, "10 s after a write", None)
        return Decision(self._anchor() + 300.0, "every 300 s", None)


def test_simulate_runs_a_users_own_strategy_class_and_factory() -> None:
    base = SimConfig(scenario="microservice", duration=1800.0, freshness=30.0, detail=False)
    by_class = simulate(dataclasses.replace(base, strategy=EveryTenAfterWrites))
    assert by_class.summary["strategy"] == "EveryTenAfterWrites"
    assert by_class.summary["syncs"] > 0
    made: list[random.Random] = []

    def factory(freshness: float, rng: random.Random) -> SyncStrategy:
        made.append(rng)
        return Periodic(freshness)

    by_factory = simulate(dataclasses.replace(base, strategy=factory))
    spec = simulate(dataclasses.replace(base, strategy="periodic:30"))
    assert len(made) == by_factory.summary["nodes"]
    # the same strategy object through a factory or a spec: the same run
    for key in ("syncs", "bytes", "over_freshness_fraction", "staleness_max_s"):
        assert by_factory.summary[key] == spec.summary[key]
    table = compare(base, [EveryTenAfterWrites, factory, "periodic:30"])
    assert list(table["syncs"]) == [by_class.summary["syncs"], spec.summary["syncs"],
                                    spec.summary["syncs"]]


@pytest.mark.parametrize("bad", [42, object(), int])
def test_a_strategy_that_is_no_spec_nor_factory_is_refused(bad: object) -> None:
    with pytest.raises(TypeError, match="strategy"):
        SimConfig(strategy=bad)  # type: ignore[arg-type]


def test_a_factory_returning_something_else_fails_naming_it() -> None:
    def broken(freshness: float, rng: random.Random) -> SyncStrategy:
        return "periodic:30"  # type: ignore[return-value]

    with pytest.raises(TypeError, match="broken must return a SyncStrategy"):
        simulate(SimConfig(scenario="microservice", duration=60.0, strategy=broken))


def test_coincident_curves_are_labelled_and_styled_apart() -> None:
    from synctune.sim.curves import coincident_labels, line_style

    a = (np.arange(5.0), np.ones(5))
    labels = coincident_labels({"periodic:60": a, "seed-rule": (a[0].copy(), a[1].copy()),
                                "adaptive": (np.arange(5.0), np.zeros(5)),
                                "short": (np.arange(3.0), np.ones(3)),
                                "close": (np.arange(5.0), np.full(5, 0.4))}, atol=0.5)
    assert labels == {"periodic:60": "periodic:60", "seed-rule": "seed-rule (same as periodic:60)",
                      "adaptive": "adaptive", "short": "short", "close": "close (≈ adaptive)"}
    styles = [line_style(i) for i in range(4)]
    assert len({s["ls"] for s in styles}) == 4
    assert all(s["lw"] > 0 for s in styles)


def test_a_trace_too_short_to_tell_long_intervals_apart_says_so(tmp_path: Path) -> None:
    # reads only and no commits anywhere: every interval meets the target, up to what the
    # trace can test (half its length)
    path = tmp_path / "quiet.csv"
    path.write_text("t,node,op\n" + "".join(f"{t},app,read\n" for t in range(0, 600, 5)))
    advice = advise(str(path), 30.0)
    assert advice.met and advice.capped
    assert advice.longest - 1.0 <= advice.sync_interval <= advice.longest <= 300.0
    assert advice.to_dict()["capped_by_trace_length"] is True
