"""Commit announcements in the simulator: ``notify`` knows only what a real system could,
``announced`` hears a channel with delay, loss and outages, and the watcher's pulls count."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from synctune.cli.main import main
from synctune.policy import InvalidInput
from synctune.sim import NodeLoad, SimConfig, Workload, simulate

from ._helpers import instant, single_node


def _repro() -> Workload:
    # b writes at 1 (local-first), a primary write at 3, a reads at 10-40, b reads at 50
    return Workload({"a": NodeLoad(reads=np.array([10.0, 20.0, 30.0, 40.0])),
                     "b": NodeLoad(reads=np.array([50.0]), writes=np.array([1.0]))},
                    60.0, np.array([3.0]))


def test_notify_does_not_count_a_write_another_node_has_not_pushed_as_pulled() -> None:
    res = simulate(instant(strategy="notify", freshness=5.0, write_model="local-first",
                           detail=True), workload=_repro())
    reads = res.reads
    a = reads[reads["node"] == "a"]["staleness_s"].tolist()
    # b's write reaches the primary only when b first syncs, at its read at 50: before that
    # a has every commit there is (it was 2, 12, 22 and 32 s old when notify treated b's
    # unpushed write as committed and as pulled)
    assert a == [0.0, 0.0, 0.0, 0.0]
    syncs = res.syncs
    b_push = syncs[(syncs["node"] == "b") & (syncs["pushed"] > 0)]["end"].min()
    a_after = syncs[(syncs["node"] == "a") & (syncs["start"] >= b_push)]
    assert len(a_after) == 1  # a pulls b's write once it is announced


def test_notify_learns_online_whether_its_node_reads() -> None:
    # commits from the start, the node's first read only at 100 s
    wl = single_node([5.0, 20.0, 40.0], [100.0, 110.0], 120.0)
    res = simulate(instant(strategy="notify", freshness=5.0, detail=True), workload=wl)
    starts = res.syncs["start"].tolist()
    assert starts == [100.0]  # it was 10, 25 and 45 when built knowing reads would come
    assert res.summary.oracle_syncs == 1


def _fleet(primary: list[float], reads: list[float], duration: float) -> Workload:
    return Workload({"r1": NodeLoad(reads=np.asarray(reads)),
                     "r2": NodeLoad(reads=np.asarray(reads) + 0.5),
                     "w": NodeLoad(writes=np.array([50.0, 51.0]))},
                    duration, np.asarray(primary))


def _announced(**kw: object) -> SimConfig:
    base: dict[str, object] = dict(strategy="announced", freshness=10.0, rtt_ms=20.0,
                                   detail=True)
    base.update(kw)
    return SimConfig(**base)  # type: ignore[arg-type]


def test_announced_pulls_per_burst_at_readers_and_the_watcher_pulls_count() -> None:
    reads = np.arange(1.0, 600.0, 2.0).tolist()
    wl = _fleet([100.0, 100.5, 101.0, 300.0], reads, 600.0)
    res = simulate(_announced(), workload=wl)
    s, syncs = res.summary, res.syncs
    assert s.over_freshness_fraction == 0.0
    assert s.watcher_syncs > 0 and s.syncs == len(syncs[syncs["ok"]]) + s.watcher_syncs
    # the writer's two writes and the watcher's finds were announced
    assert s.announcements >= 3
    r1 = syncs[syncs["node"] == "r1"]["start"].to_numpy()
    # the catch-up pull at the start, then one pull per burst: 50-51, 100-101, 300
    assert len(r1) <= 5
    assert (syncs["node"] == "w").sum() == 0  # the writer never reads: it never pulls


def test_long_poll_watcher_costs_one_request_per_hold_on_an_idle_primary() -> None:
    wl = single_node([], np.arange(1.0, 3600.0, 10.0), 3600.0)
    poll = simulate(_announced(detail=False, freshness=30.0), workload=wl).summary
    held = simulate(_announced(detail=False, freshness=30.0, watcher_long_poll=True),
                    workload=wl).summary
    # an idle primary: at most one request per hold (60 s), and never more than polling
    assert held.watcher_syncs <= 3600 / 60 + 2
    assert held.watcher_syncs <= poll.watcher_syncs <= 3600 / 29
    assert poll.syncs == poll.watcher_syncs + 1  # the replica: its catch-up pull only


def test_a_channel_outage_falls_back_and_the_slo_holds() -> None:
    reads = np.arange(1.0, 3600.0, 1.0).tolist()
    wl = _fleet(np.arange(30.0, 3600.0, 45.0).tolist(), reads, 3600.0)
    calm = simulate(_announced(detail=False, freshness=30.0), workload=wl).summary
    down = simulate(_announced(detail=False, freshness=30.0, announce_loss=0.01,
                               announce_outages=[(600.0, 1200.0)]), workload=wl).summary
    assert calm.fallback_syncs == 0
    assert down.fallback_syncs > 0
    assert down.over_freshness_fraction <= 0.01


def test_same_seed_same_run_and_the_channel_draws_follow_the_seed() -> None:
    reads = np.arange(1.0, 900.0, 3.0).tolist()
    wl = _fleet(np.arange(10.0, 900.0, 37.0).tolist(), reads, 900.0)
    cfg = _announced(detail=False, announce_loss=0.3, announce_delay_ms=50.0)
    assert simulate(cfg, workload=wl).summary == simulate(cfg, workload=wl).summary


@pytest.mark.parametrize(("kw", "field"), [
    ({"announce_delay_ms": -1.0}, "announce_delay_ms"),
    ({"announce_loss": 1.0}, "announce_loss"),
    ({"announce_outages": [(5.0, 3.0)]}, "announce outage end"),
    ({"announce_outages": [(1.0,)]}, "announce_outages"),
    ({"watcher_long_poll": 1}, "watcher_long_poll"),
])
def test_bad_channel_settings_name_the_field(kw: dict[str, object], field: str) -> None:
    with pytest.raises((InvalidInput, TypeError), match=field):
        SimConfig(**kw)  # type: ignore[arg-type]


def _compare(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["compare", "--scenario", "microservice", "--duration",
                                     "600", *args])


def test_compare_flags_reach_the_run_and_show_the_channel_columns() -> None:
    r = _compare("--strategies", "announced,notify", "--json", "--announce-delay-ms", "5",
                 "--announce-loss", "0.01", "--announce-outage", "100:400",
                 "--watcher-long-poll")
    assert r.exit_code == 0, r.output
    rows = {row["strategy"]: row for row in json.loads(r.output)}
    assert rows["announced"]["watcher_syncs"] > 0
    assert rows["announced"]["fallback_syncs"] > 0  # the outage made the fallback pull
    assert rows["notify"]["watcher_syncs"] == 0 and rows["notify"]["announcements"] > 0
    table = _compare("--strategies", "announced")
    assert "watcher" in table.output and "fallback" in table.output


@pytest.mark.parametrize(("args", "flag"), [
    (["--announce-outage", "5:3"], "--announce-outage"),
    (["--announce-outage", "x"], "--announce-outage"),
    (["--announce-loss", "1"], "--announce-loss"),
    (["--announce-delay-ms", "-2"], "--announce-delay-ms"),
])
def test_bad_channel_flags_exit_2_with_one_line_naming_the_flag(args: list[str],
                                                                 flag: str) -> None:
    r = _compare("--strategies", "announced", *args)
    assert r.exit_code == 2, r.output
    lines = [line for line in r.output.splitlines() if line.strip()]
    assert len(lines) == 1 and flag in lines[0] and "Traceback" not in r.output, r.output


def test_an_announced_strategy_from_a_factory_gets_the_channel_as_the_spec_does() -> None:
    from synctune.policy import Announced

    made: list[int] = []

    def factory(d: float, rng: object) -> Announced:
        made.append(1)
        return Announced(d, rng=rng)  # type: ignore[arg-type]

    wl = _fleet([100.0, 300.0], np.arange(1.0, 600.0, 2.0).tolist(), 600.0)
    by_spec = simulate(_announced(detail=False), workload=wl).summary
    by_factory = simulate(_announced(detail=False, strategy=factory), workload=wl).summary
    assert len(made) == 3  # once per node: never called just to look
    assert by_factory.watcher_syncs == by_spec.watcher_syncs > 0
    assert (by_factory.syncs, by_factory.announcements) == (by_spec.syncs, by_spec.announcements)


def test_notify_pushes_local_first_writes_within_d_so_others_hear_of_them() -> None:
    wl = Workload({"a": NodeLoad(writes=np.array([1.0])),
                   "b": NodeLoad(reads=np.array([20.0, 30.0]))}, 40.0, np.empty(0))
    res = simulate(instant(strategy="notify", freshness=5.0, write_model="local-first",
                           detail=True), workload=wl)
    syncs = res.syncs
    assert syncs[syncs["node"] == "a"]["start"].tolist() == [6.0]  # pushed within D
    assert res.summary.unsynced_writes_end == 0
    assert syncs[syncs["node"] == "b"]["start"].tolist() == [20.0]  # its first read pulls
    assert res.reads["staleness_s"].tolist() == [0.0, 0.0]


def test_the_stale_read_budget_skips_pulls_between_sessions_within_the_slo() -> None:
    from synctune.policy import Announced

    # commits every 5 s for 4 h; one reader in sessions of 100 reads 1 s apart, 200 s quiet
    # between them (under 10 D: a spell fixed there pulls through every quiet spell)
    sessions = [s + np.arange(100.0) for s in np.arange(60.0, 14400.0, 300.0)]
    wl = Workload({"r": NodeLoad(reads=np.concatenate(sessions))}, 14400.0,
                  np.arange(2.0, 14400.0, 5.0))

    def fixed(d: float, rng: object) -> Announced:
        return Announced(d, rng=rng, stale_share=0.0)  # type: ignore[arg-type]

    tuned = simulate(_announced(freshness=30.0, detail=False), workload=wl).summary
    old = simulate(_announced(freshness=30.0, detail=False, strategy=fixed), workload=wl).summary
    assert tuned.syncs < old.syncs
    assert tuned.over_freshness_fraction <= 0.01
