"""``simulate(config)``: run one strategy over a workload on the simulated clock (SimPy)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import simpy

from synctune.policy import SyncStrategy
from synctune.sim import rng as streams
from synctune.sim import strategies
from synctune.sim.config import SimConfig
from synctune.sim.monitor import NodeHistory, alert_events, metric_series, sample_grid
from synctune.sim.network import Link
from synctune.sim.node import COLD, READ, REQUEST, WRITE, ReplicaNode
from synctune.sim.oracle import Oracle, oracle_pulls
from synctune.sim.primary import PrimaryLog
from synctune.sim.result import SimResult
from synctune.sim.scenarios import scenario
from synctune.sim.staleness import staleness, visible_at
from synctune.sim.trace import load_trace
from synctune.sim.workload import PRIMARY, NodeLoad, Workload

_READ_SIGMA = 0.5  # log-normal spread of local read latency
_ORACLE_MARGIN_S = 0.05  # the runnable oracle's allowance for transfer and apply
#: reads reach the strategy in batches of at most this span (s), counted at the batch's last
#: read: read-aware strategies learn rates, which a second's delay does not change, and a busy
#: node costs one event per second instead of one per read
READ_BATCH_S = 1.0


def read_batches(reads: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reads grouped per ``READ_BATCH_S`` slot: each slot's last read time and its read count."""
    if reads.size == 0:
        return np.empty(0), np.empty(0, dtype=np.int64)
    slot = np.floor(reads / READ_BATCH_S)
    last = np.flatnonzero(np.concatenate([slot[1:] != slot[:-1], [True]]))
    counts = np.diff(np.concatenate([[-1], last]))
    return reads[last], counts


@dataclass(frozen=True, slots=True)
class Setting:
    """Scenario defaults filled into a config."""

    duration: float
    rtt_ms: float
    write_model: str
    base_db_bytes: int
    nodes: int


def resolve(config: SimConfig) -> Setting:
    """The config's settings with the scenario's defaults filled in."""
    sc = scenario(config.scenario if config.trace is None else "web")
    return Setting(
        duration=config.duration if config.duration is not None else sc.duration,
        rtt_ms=config.rtt_ms if config.rtt_ms is not None else sc.rtt_ms,
        write_model=config.write_model if config.write_model is not None else sc.write_model,
        base_db_bytes=(config.base_db_bytes if config.base_db_bytes is not None
                       else (0 if config.trace is not None else sc.base_db_bytes)),
        nodes=config.nodes if config.nodes is not None else sc.nodes,
    )


def build_workload(config: SimConfig) -> Workload:
    """The workload ``config`` names (trace or scenario), cut to its duration.

    Depends only on the workload fields and the seed, never on the strategy: every strategy
    run with the same seed sees the same workload.
    """
    if config.trace is not None:
        wl = load_trace(config.trace)
        return wl.clipped(config.duration) if config.duration is not None else wl
    st = resolve(config)
    sc = scenario(config.scenario)
    return sc.build(st.duration, st.nodes, streams.generator(config.seed, "workload"))


def _pct(a: np.ndarray, q: float) -> float:
    return float(np.percentile(a, q)) if a.size else 0.0


def simulate(config: SimConfig, *, workload: Workload | None = None) -> SimResult:
    """Run ``config.strategy`` over the workload; return tables and summary.

    Args:
        config: the run.
        workload: the workload to use instead of building it from ``config`` (lets a comparison
            build it once); must be the one ``config`` describes for results to mean anything.
    """
    if not isinstance(config, SimConfig):
        raise TypeError(f"config must be a SimConfig, got {config!r}")
    strategies.check_choice(config.strategy, config.freshness)
    spec = strategies.name_of(config.strategy)
    st = resolve(config)
    wl = workload if workload is not None else build_workload(config)
    if not isinstance(wl, Workload):
        raise TypeError(f"workload must be a Workload, got {wl!r}")
    for outage in config.outages:
        if outage.node is not None and outage.node not in wl.nodes:
            raise ValueError(f"outage node must be one of {', '.join(wl.names)} or None, "
                             f"got {outage.node!r}")
    duration = float(config.duration) if config.duration is not None else wl.duration
    return _Run(config, st, wl, duration, spec).result()


class _Run:
    """One simulation: set-up, the SimPy run, then vectorised post-processing."""

    def __init__(self, cfg: SimConfig, st: Setting, wl: Workload, duration: float,
                 spec: str) -> None:
        self.cfg, self.st, self.wl, self.duration, self.spec = cfg, st, wl, duration, spec
        self.names = wl.names
        self.local_first = st.write_model == "local-first"
        self.ryw = cfg.read_your_writes and not self.local_first
        seed = cfg.seed
        self.links = [Link(name, st.rtt_ms, cfg.rtt_jitter, cfg.bytes_per_second,
                           cfg.failure_prob, cfg.outages, streams.generator(seed, "network", i),
                           streams.generator(seed, "faults", i))
                      for i, name in enumerate(self.names)]
        self._plan_writes()

    # ------------------------------------------------------------------ set-up
    def _plan_writes(self) -> None:
        """Delegated writes: commit, acknowledgement and outcome are known before the run."""
        cfg, wl = self.cfg, self.wl
        ext_t = [wl.primary_writes]
        ext_b = [wl.primary_bytes]
        ext_origin = [np.full(wl.primary_writes.size, -1)]
        ext_ref = [np.arange(wl.primary_writes.size)]
        self.w_latency, self.w_commit, self.w_ok, self.events = [], [], [], []
        self.ryw_reach: list[np.ndarray | None] = []
        for i, ld in enumerate(wl.nodes.values()):
            n = ld.writes.size
            wrng = streams.generator(cfg.seed, "writes", i)
            if self.local_first:
                ok = np.ones(n, dtype=bool)
                ev_w = ld.writes
                latency = cfg.query_ms * np.exp(_READ_SIGMA * wrng.standard_normal(n))
                commit = np.full(n, np.nan)
                self.ryw_reach.append(None)
            else:
                link = self.links[i]
                rtt1 = link.rtts(n, wrng)
                rtt2 = link.rtts(n, wrng) if self.ryw else np.zeros(n)
                ok = ~link.down_mask(ld.writes)
                commit = np.where(ok, ld.writes + rtt1 / 2, np.nan)
                ack = ld.writes + rtt1 + rtt2
                latency = np.where(ok, (ack - ld.writes) * 1000.0, np.nan)
                ev_w = ack
                ext_t.append(commit[ok])
                ext_b.append(ld.write_bytes[ok])
                ext_origin.append(np.full(int(ok.sum()), i))
                ext_ref.append(np.flatnonzero(ok))
                self.ryw_reach.append(commit if self.ryw else None)
            self.w_latency.append(latency)
            self.w_commit.append(commit)
            self.w_ok.append(ok)
            # app events for the strategy, in time order (a write before a request at a tie);
            # for reads the ref is the batch's read count
            wi = np.flatnonzero(ok)
            rb_t, rb_n = read_batches(ld.reads)
            t = np.concatenate([ev_w[wi], ld.syncs, ld.cold_starts, rb_t])
            k = np.concatenate([np.full(wi.size, WRITE), np.full(ld.syncs.size, REQUEST),
                                np.full(ld.cold_starts.size, COLD), np.full(rb_t.size, READ)])
            j = np.concatenate([wi, np.zeros(ld.syncs.size + ld.cold_starts.size, dtype=int),
                                rb_n])
            order = np.lexsort((k, t))
            self.events.append((t[order].tolist(), k[order].tolist(), j[order].tolist()))
        self.ext = (np.concatenate(ext_t), np.concatenate(ext_b).astype(np.int64),
                    np.concatenate(ext_origin), np.concatenate(ext_ref))

    def _oracle(self, i: int) -> Oracle:
        """The runnable oracle for node ``i``: plans from commits known in advance (local-first
        writes of other nodes counted as if pushed at once), each pull started early enough
        to be visible before the read that needs it."""
        ext_t = self.ext[0]
        known = [ext_t]
        if self.local_first:
            known += [ld.writes for j, ld in enumerate(self.wl.nodes.values()) if j != i]
        commits = np.sort(np.concatenate(known))
        free_t, free_reach = self._free_pulls(i)
        # start early enough for a slow round trip (3 sigma) plus transfer and apply
        rounds = 2 if self.local_first else 1
        lead = (rounds * self.links[i].median_rtt * math.exp(3 * self.cfg.rtt_jitter)
                + _ORACLE_MARGIN_S)
        pulls = oracle_pulls(commits, self.wl.nodes[self.names[i]].reads, self.cfg.freshness,
                             free_t=free_t, free_reach=free_reach, lag=lead)
        return Oracle(pulls, lead=lead)

    def _free_pulls(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        reach = self.ryw_reach[i]
        if reach is None:
            return np.empty(0), np.empty(0)
        ok = self.w_ok[i]
        ack = self.wl.nodes[self.names[i]].writes[ok] + self.w_latency[i][ok] / 1000.0
        order = np.argsort(ack, kind="stable")
        return ack[order], reach[ok][order]

    # --------------------------------------------------------------------- run
    def result(self) -> SimResult:
        cfg, st = self.cfg, self.st
        env = simpy.Environment()
        log = PrimaryLog(self.ext[0], self.ext[1])
        self.nodes: list[ReplicaNode] = []
        for i, name in enumerate(self.names):
            strategy: SyncStrategy
            if strategies.is_oracle(cfg.strategy):
                strategy = self._oracle(i)
            else:
                strategy = strategies.build(cfg.strategy, cfg.freshness,
                                            streams.python_random(cfg.seed, "strategy", i))
            ld = self.wl.nodes[name]
            node = ReplicaNode(env, i, strategy, self.links[i], log, self.events[i],
                               self.duration, local_first=self.local_first,
                               write_bytes=ld.write_bytes,
                               ryw_reach=self.ryw_reach[i], timeout=cfg.sync_timeout,
                               overhead=cfg.sync_overhead_bytes,
                               apply_s=cfg.apply_s_per_change, base_bytes=st.base_db_bytes,
                               interval_check=min(1.0, cfg.sample_interval))
            self.nodes.append(node)
            env.process(node.run())
        env.run()
        return self._collect()

    # ---------------------------------------------------------------- results
    def _commits(self) -> None:
        """Every primary commit sorted by commit time, with origin and origin time."""
        ext_t, ext_b, ext_origin, ext_ref = self.ext
        t, b, origin, ref = [ext_t], [ext_b], [ext_origin], [ext_ref]
        if self.local_first:
            for i, node in enumerate(self.nodes):
                pc = node.push_commit
                ok = ~np.isnan(pc)  # type: ignore[arg-type]
                self.w_commit[i] = pc  # type: ignore[assignment]
                t.append(pc[ok])  # type: ignore[index]
                b.append(self.wl.nodes[self.names[i]].write_bytes[ok])
                origin.append(np.full(int(ok.sum()), i))
                ref.append(np.flatnonzero(ok))
        ct, cb = np.concatenate(t), np.concatenate(b)
        co, cr = np.concatenate(origin), np.concatenate(ref)
        order = np.argsort(ct, kind="stable")
        self.ct, self.cb, self.co, self.cr = ct[order], cb[order], co[order], cr[order]
        # when each write was committed at its origin: the primary's own writes and delegated
        # writes at the primary, local-first writes locally
        origin_t = self.ct.copy()
        if self.local_first:
            for i, ld in enumerate(self.wl.nodes.values()):
                mine = self.co == i
                origin_t[mine] = ld.writes[self.cr[mine]]
        self.origin_t = origin_t
        self.cum_bytes = np.concatenate([[0], np.cumsum(self.cb)])

    def _after_app_syncs(self, rt: np.ndarray, ld: NodeLoad, syncs: pd.DataFrame) -> np.ndarray:
        """When each read runs: a read after an app sync point waits for the attempt serving
        it (the first one starting within the sync timeout of the request) to end."""
        q = np.sort(np.concatenate([ld.syncs, ld.cold_starts]))
        if q.size == 0 or syncs.empty:
            return rt
        starts = syncs["start"].to_numpy(dtype=np.float64)
        ends = syncs["end"].to_numpy(dtype=np.float64)
        k = np.searchsorted(starts, q, side="left")
        kk = np.minimum(k, starts.size - 1)
        served = (k < starts.size) & (starts[kk] < q + self.cfg.sync_timeout)
        until = np.maximum.accumulate(np.where(served, ends[kk], q))
        m = np.searchsorted(q, rt, side="right") - 1
        return np.maximum(rt, np.where(m >= 0, until[np.maximum(m, 0)], -np.inf))

    def _timeline(self, node: ReplicaNode) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The node's replica timeline (syncs and read-your-writes pulls), and the bytes each
        read-your-writes pull moved (what it brought beyond what the replica had)."""
        n_sync = len(node.vis_t)
        vis_t = np.concatenate([node.vis_t, node.ryw_t])
        reach = np.concatenate([node.vis_reach, node.ryw_reach])
        order = np.argsort(vis_t, kind="stable")
        vis_t, reach = vis_t[order], reach[order]
        seen = np.maximum.accumulate(reach)
        before = np.concatenate([[-np.inf], seen[:-1]])
        is_ryw = order >= n_sync
        cum = self.cum_bytes
        gained = (cum[np.searchsorted(self.ct, reach[is_ryw], side="right")]
                  - cum[np.searchsorted(self.ct, before[is_ryw], side="right")])
        ryw_bytes = np.empty(len(node.ryw_t), dtype=np.int64)
        ryw_bytes[order[is_ryw] - n_sync] = np.maximum(gained, 0) + self.cfg.sync_overhead_bytes
        return vis_t, seen, ryw_bytes

    def _collect(self) -> SimResult:
        cfg, wl, duration = self.cfg, self.wl, self.duration
        self._commits()
        grid = sample_grid(duration, cfg.sample_interval)
        n_nodes = len(self.names)
        vis_delay = np.full((self.ct.size, n_nodes), np.nan)
        never = 0
        reads_parts, metric_parts, alert_rows, sync_parts = [], [], [], []
        stale_all, lat_all = [], []
        oracle_total = traffic = 0
        for i, (name, node) in enumerate(zip(self.names, self.nodes, strict=True)):
            ld = wl.nodes[name]
            vis_t, reach, ryw_bytes = self._timeline(node)
            must_see = self.ct[self.co != i] if self.local_first else self.ct
            syncs = pd.DataFrame(node.syncs, columns=["start", "end", "ok", "failure", "pulled",
                                                      "pushed", "bytes", "reach", "apply_start"])
            syncs.insert(0, "node", name)
            sync_parts.append(syncs)
            ok = syncs["ok"].to_numpy(dtype=bool)
            ends = syncs["end"].to_numpy(dtype=np.float64)

            # reads: staleness and latency, vectorised
            rt = ld.reads
            lrng = streams.generator(cfg.seed, "latency", i)
            lat = (cfg.query_ms / 1000.0 * np.exp(
                _READ_SIGMA * lrng.standard_normal(rt.size, dtype=np.float32))).astype(np.float64)
            # the oracle ignores app sync points, so nothing waits on them
            blocks = cfg.sync_blocks_reads and not strategies.is_oracle(cfg.strategy)
            run_at = self._after_app_syncs(rt, ld, syncs) if blocks else rt
            stale = staleness(run_at, vis_t, reach, must_see)
            lat = lat + (run_at - rt)
            if cfg.read_hold and ok.any():
                a0 = syncs["apply_start"].to_numpy(dtype=np.float64)[ok]
                a1 = ends[ok]
                k = np.searchsorted(a0, rt, side="right") - 1
                held = (k >= 0) & (rt < a1[np.maximum(k, 0)])
                lat = lat + np.where(held, a1[np.maximum(k, 0)] - rt, 0.0)
            stale_all.append(stale)
            lat_all.append(lat)
            if cfg.detail:
                reads_parts.append(pd.DataFrame({"t": rt, "node": name, "staleness_s": stale,
                                                 "latency_ms": lat * 1000.0}))

            # visibility of every other origin's commits here
            others = self.co != i
            seen_at = visible_at(self.ct[others], vis_t, reach)
            vis_delay[others, i] = np.maximum(seen_at - self.origin_t[others], 0.0)
            never += int(np.isnan(seen_at).sum())

            # the oracle's count for this node, on this run's commits
            free_t, free_reach = self._free_pulls(i)
            oracle_total += oracle_pulls(must_see, rt, cfg.freshness, free_t=free_t,
                                         free_reach=free_reach).size

            # metrics and alerts
            own_t = ld.writes if self.local_first else np.empty(0)
            own_b = ld.write_bytes if self.local_first else np.empty(0, dtype=np.int64)
            own_c = self.w_commit[i] if self.local_first else np.empty(0)
            pushed = ~np.isnan(own_c)
            oc_order = np.argsort(own_c[pushed], kind="stable")
            bw_t = np.concatenate([ends, node.ryw_t])
            bw_b = np.concatenate([syncs["bytes"].to_numpy(dtype=np.int64), ryw_bytes])
            bw_order = np.argsort(bw_t, kind="stable")
            traffic += int(bw_b.sum())
            iv_t = np.asarray([t for t, _ in node.intervals], dtype=np.float64)
            iv = np.asarray([np.nan if v is None else v for _, v in node.intervals],
                            dtype=np.float64)
            hist = NodeHistory(
                ok_end=np.union1d(ends[ok], node.ryw_t), fail_end=ends[~ok], vis_t=vis_t,
                reach=reach, commits=must_see,
                commit_bytes_t=self.ct, commit_bytes_cum=self.cum_bytes,
                own_t=own_t, own_cum=np.concatenate([[0], np.cumsum(own_b)]),
                own_commit_t=own_c[pushed][oc_order],
                own_commit_cum=np.concatenate([[0], np.cumsum(own_b[pushed][oc_order])]),
                read_t=rt, read_latency=lat, bw_t=bw_t[bw_order],
                bw_cum=np.concatenate([[0], np.cumsum(bw_b[bw_order])]),
                iv_t=iv_t, iv=iv, base_bytes=self.st.base_db_bytes)
            metric_parts.append(metric_series(name, hist, grid, cfg.sample_interval))
            alert_rows += alert_events(name, hist, grid, cfg.thresholds)

        syncs = pd.concat(sync_parts, ignore_index=True).drop(columns="apply_start")
        metrics = pd.concat(metric_parts, ignore_index=True)
        alerts = pd.DataFrame(alert_rows, columns=["t", "node", "name", "severity", "state",
                                                   "value"])
        alerts = alerts.sort_values(["t", "node"], kind="stable", ignore_index=True)
        stale = np.concatenate(stale_all) if stale_all else np.empty(0)
        lat = np.concatenate(lat_all) if lat_all else np.empty(0)
        pair_delay = vis_delay[~np.isnan(vis_delay)]
        reads = (pd.concat(reads_parts, ignore_index=True) if reads_parts else
                 pd.DataFrame(columns=["t", "node", "staleness_s", "latency_ms"]))
        writes = self._writes_table(vis_delay) if cfg.detail else pd.DataFrame(
            columns=["t", "node", "commit_t", "latency_ms", "bytes", "failed",
                     "visibility_max_s"])
        if not reads.empty:
            reads = reads.sort_values("t", kind="stable", ignore_index=True)
            reads["node"] = reads["node"].astype("category")

        w_lat = np.concatenate([w[~np.isnan(w)] for w in self.w_latency]) \
            if self.w_latency else np.empty(0)
        n_ok = syncs["ok"].to_numpy(dtype=bool)
        fired = alerts[alerts["state"] == "firing"]["name"].value_counts()
        n_writes = wl.primary_writes.size + sum(ld.writes.size for ld in wl.nodes.values())
        summary: dict[str, Any] = {
            "strategy": self.spec,
            "workload": cfg.trace if cfg.trace is not None else cfg.scenario,
            "write_model": self.st.write_model,
            "nodes": n_nodes,
            "duration_s": duration,
            "freshness_s": cfg.freshness,
            "seed": cfg.seed,
            "syncs": int(n_ok.sum()),
            "sync_failures": int((~n_ok).sum()),
            "oracle_syncs": int(oracle_total),
            "syncs_per_oracle": (float(n_ok.sum()) / oracle_total if oracle_total else
                                 (0.0 if not n_ok.any() else float("inf"))),
            "ryw_pulls": int(sum(len(n.ryw_t) for n in self.nodes)),
            "bytes": traffic,
            "reads": int(stale.size),
            "writes": int(n_writes),
            "write_errors": int(sum((~ok).sum() for ok in self.w_ok)),
            "stale_read_fraction": float((stale > 0).mean()) if stale.size else 0.0,
            "over_freshness_fraction": (float((stale > cfg.freshness).mean())
                                        if stale.size else 0.0),
            "staleness_mean_s": float(stale.mean()) if stale.size else 0.0,
            "staleness_p99_s": _pct(stale, 99),
            "staleness_max_s": float(stale.max()) if stale.size else 0.0,
            "visibility_mean_s": float(pair_delay.mean()) if pair_delay.size else 0.0,
            "visibility_p99_s": _pct(pair_delay, 99),
            "visibility_max_s": float(pair_delay.max()) if pair_delay.size else 0.0,
            "visibility_censored": int(never),
            "write_latency_p99_ms": _pct(w_lat, 99),
            "read_latency_p99_ms": _pct(lat, 99) * 1000.0,
            "unsynced_writes_max": int(max(n.unsynced_max for n in self.nodes)),
            "unsynced_writes_end": int(sum(n._written - n._pushed for n in self.nodes)),
            "cold_starts": int(sum(n.cold_starts for n in self.nodes)),
            "alerts_high_sync_lag": int(fired.get("high_sync_lag", 0)),
            "alerts_sync_failure": int(fired.get("sync_failure", 0)),
            "alerts_replica_stale": int(fired.get("replica_stale", 0)),
        }
        return SimResult(cfg, reads, writes, syncs, metrics, alerts, summary)

    def _writes_table(self, vis_delay: np.ndarray) -> pd.DataFrame:
        wl = self.wl
        # per commit: slowest other node (NaN if some node never saw it)
        worst = np.full(self.ct.size, np.nan)
        if self.ct.size:
            cols = np.ones(vis_delay.shape, dtype=bool)
            cols[np.arange(self.ct.size)[self.co >= 0], self.co[self.co >= 0]] = False
            masked = np.where(cols, vis_delay, -np.inf)
            incomplete = (np.isnan(vis_delay) & cols).any(axis=1)
            worst = np.where(incomplete, np.nan, masked.max(axis=1))
        parts = []
        pw = wl.primary_writes
        sel = self.co == -1
        pv = np.full(pw.size, np.nan)
        pv[self.cr[sel]] = worst[sel]
        parts.append(pd.DataFrame({"t": pw, "node": PRIMARY, "commit_t": pw, "latency_ms": 0.0,
                                   "bytes": wl.primary_bytes, "failed": False,
                                   "visibility_max_s": pv}))
        for i, (name, ld) in enumerate(wl.nodes.items()):
            sel = self.co == i
            v = np.full(ld.writes.size, np.nan)
            v[self.cr[sel]] = worst[sel]
            parts.append(pd.DataFrame({"t": ld.writes, "node": name, "commit_t": self.w_commit[i],
                                       "latency_ms": self.w_latency[i], "bytes": ld.write_bytes,
                                       "failed": ~self.w_ok[i], "visibility_max_s": v}))
        df = pd.concat(parts, ignore_index=True).sort_values("t", kind="stable",
                                                             ignore_index=True)
        df["node"] = df["node"].astype("category")
        return df
