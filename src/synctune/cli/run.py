"""``synctune run``: the live controller as a service process, with status lines."""

from __future__ import annotations

import logging
import signal
import threading
import time
from types import FrameType

import click

from synctune.cli._errors import OneLineErrors, fail, friendly_errors
from synctune.live.factory import TOKEN_ENV, open_replica
from synctune.live.replica import SyncError
from synctune.policy import _check
from synctune.policy.spec import strategy_forms, strategy_from_spec

EXIT_UNFLUSHED = 1


@click.command(cls=OneLineErrors)
@click.option("--db", "db", required=True, type=click.Path(dir_okay=False),
              help="Local replica file.")
@click.option("--url", required=True, help="The primary's sync URL (http://, https://, libsql://).")
@click.option("--freshness", required=True, type=float,
              help="Freshness target in seconds (how stale a read may be).")
@click.option("--strategy", "spec", default="adaptive", show_default=True,
              help=f"Strategy spec: {strategy_forms()}.")
@click.option("--metrics-port", type=int, default=None,
              help="Serve Prometheus metrics on 127.0.0.1:PORT (0 picks a free port).")
@click.option("--auth-token", envvar=TOKEN_ENV, default=None, show_envvar=True,
              help=f"Bearer token; prefer the {TOKEN_ENV} variable (options show up in ps).")
@click.option("--adapter", type=click.Choice(["turso", "libsql"]), default="turso",
              show_default=True, help="Client library.")
@click.option("--status-every", type=float, default=5.0, show_default=True,
              help="Seconds between status lines.")
@click.option("--stop-deadline", type=float, default=10.0, show_default=True,
              help="Seconds allowed on exit to push unpushed writes.")
@click.option("--duration", type=float, default=None,
              help="Stop by itself after this many seconds (default: run until signalled).")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]),
              default="warning", show_default=True, help="Logging on stderr.")
@friendly_errors
def run(db: str, url: str, freshness: float, spec: str, metrics_port: int | None,
        auth_token: str | None, adapter: str, status_every: float, stop_deadline: float,
        duration: float | None, log_level: str) -> None:
    """Keep the replica at --db fresh against --url until Ctrl-C or SIGTERM.

    Prints a status line every --status-every seconds; on exit pushes what is left within
    --stop-deadline (exit code 1 if some writes could not be pushed).
    """
    from synctune.live.controller import SyncController

    _check.real("freshness", freshness, minimum=0.0, strict=True)
    _check.real("status_every", status_every, minimum=0.0, strict=True)
    _check.real("stop_deadline", stop_deadline, minimum=0.0)
    if duration is not None:
        _check.real("duration", duration, minimum=0.0)
    if metrics_port is not None and not 0 <= metrics_port <= 65535:
        raise ValueError(f"metrics-port must be in 0..65535, got {metrics_port!r}")
    strategy = strategy_from_spec(spec, freshness)
    logging.basicConfig(level=log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        replica = open_replica(db, url, auth_token=auth_token, adapter=adapter)
    except SyncError as exc:
        click.echo(f"synctune: error: cannot open the replica: {exc}", err=True)
        raise SystemExit(EXIT_UNFLUSHED) from None

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    controller = SyncController(replica, strategy)
    metrics = None
    try:
        controller.start()
        click.echo(f"synctune: running {strategy!r} on {replica!r}", nl=True)
        if metrics_port is not None:
            from synctune.live.prometheus import MetricsServer

            try:
                metrics = MetricsServer(controller, port=metrics_port)
            except OSError as exc:
                fail(f"metrics-port {metrics_port}: {exc.strerror or exc}")
            click.echo(f"synctune: metrics at {metrics.url}")
        end = None if duration is None else time.monotonic() + duration
        while not stop.is_set():
            wait = status_every if end is None else min(status_every, end - time.monotonic())
            if wait <= 0 or stop.wait(wait):
                break
            click.echo(f"synctune: {controller.status().line()}")
    finally:
        flushed = controller.stop(stop_deadline)
        if metrics is not None:
            metrics.close()
        replica.close()
        for s, handler in previous.items():
            signal.signal(s, handler)
    click.echo(f"synctune: stopped: {controller.status().line()}")
    if not flushed:
        click.echo("synctune: error: some local writes could not be pushed before the deadline",
                   err=True)
        raise SystemExit(EXIT_UNFLUSHED)
