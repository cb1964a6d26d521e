"""``synctune watch``: one process per primary that pulls and announces what it finds."""

from __future__ import annotations

import click

from synctune.cli._errors import fail
from synctune.cli.run import ANNOUNCE_ENV, Announcing, announcer_for, serve
from synctune.live.replica.base import Replica
from synctune.live.replica.urls import TOKEN_ENV, check_url
from synctune.policy import SyncStrategy, Watcher, _check

#: seconds the primary is asked to hold an empty pull (with --long-poll)
HOLD_S = 20.0


@click.command()
@click.option("--url", required=True, help="The primary's sync URL (http://, https://, libsql://).")
@click.option("--db", "db", required=True, type=click.Path(dir_okay=False),
              help="The watcher's own replica file (nothing else may open it).")
@click.option("--announce", envvar=ANNOUNCE_ENV, required=True, show_envvar=True,
              help=f"redis:// or rediss:// URL to announce on (prefer the {ANNOUNCE_ENV} "
                   "variable: credentials in options show up in ps).")
@click.option("--freshness", required=True, type=float,
              help="The fleet's freshness target D in seconds: the watcher pulls so that "
                   "replicas hearing it keep D.")
@click.option("--heartbeat", type=float, default=5.0, show_default=True,
              help="Seconds between heartbeats (replicas fall back to their own tuner when "
                   "heartbeats stop for their heartbeat timeout, 15 s by default).")
@click.option("--long-poll", is_flag=True, default=False,
              help="Ask the primary to hold each pull until a commit lands (turso adapter); "
                   "two pulls at start tell whether it does, else the watcher polls (the local "
                   "tursodb answers at once).")
@click.option("--auth-token", envvar=TOKEN_ENV, default=None, show_envvar=True,
              help=f"Bearer token; prefer the {TOKEN_ENV} variable.")
@click.option("--adapter", type=click.Choice(["turso", "libsql"]), default="turso",
              show_default=True, help="Client library.")
@click.option("--metrics-port", type=int, default=None,
              help="Serve Prometheus metrics on 127.0.0.1:PORT (0 picks a free port).")
@click.option("--status-every", type=float, default=5.0, show_default=True,
              help="Seconds between status lines.")
@click.option("--duration", type=float, default=None,
              help="Stop by itself after this many seconds (default: run until signalled).")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]),
              default="warning", show_default=True, help="Logging on stderr.")
def watch(url: str, db: str, announce: str, freshness: float, heartbeat: float,
          long_poll: bool, auth_token: str | None, adapter: str, metrics_port: int | None,
          status_every: float, duration: float | None, log_level: str) -> None:
    """Pull the primary at --url into --db on the fleet's cadence and announce each change.

    For writes from clients outside the fleet: the replicas that run with --announce and the
    announced strategy pull when they hear of a commit instead of polling. One watcher per
    primary; several may run for availability (replicas pull once per burst either way).
    Exit codes as for synctune run.
    """
    _check.real("freshness", freshness, minimum=0.0, strict=True)
    _check.real("heartbeat", heartbeat, minimum=0.0, strict=True)
    _check.real("status_every", status_every, minimum=0.0, strict=True)
    if duration is not None:
        _check.real("duration", duration, minimum=0.0)
    if metrics_port is not None and not 0 <= metrics_port <= 65535:
        fail(f"--metrics-port must be in 0..65535, got {metrics_port!r}")
    check_url(url)
    announcer = announcer_for(announce, url)
    opener = strategy_for = None
    if long_poll and adapter == "turso":
        def opener() -> Replica:
            return _long_poll_replica(db, url, auth_token)

        def strategy_for(replica: Replica) -> SyncStrategy:
            held = getattr(replica, "long_poll_ignored", None) is False
            if not held:
                click.echo("synctune: the primary answers pulls at once (no long-poll): "
                           "polling", err=True)
            return Watcher(freshness, long_poll=held, long_poll_timeout=HOLD_S)
    serve(db, url, auth_token, adapter, Watcher(freshness, long_poll=False), metrics_port,
          status_every, 10.0, duration, log_level,
          Announcing(announcer, heartbeat, opener, strategy_for),
          metrics_addr="127.0.0.1", freshness=freshness)


def _long_poll_replica(db: str, url: str, auth_token: str | None) -> Replica:
    """The watcher's replica asking the primary to hold empty pulls; two pulls tell whether it
    does (the first may bring changes; an empty one answered at once was not held)."""
    from synctune.live.replica.turso.adapter import TursoReplica

    replica = TursoReplica(db, url, auth_token=auth_token, long_poll_timeout_ms=int(HOLD_S * 1000))
    for _ in range(2):
        if replica.long_poll_ignored is not None:
            break
        replica.pull(HOLD_S + 10.0)
    return replica
