"""``synctune run``: the live controller as a service process, with status lines."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, NamedTuple

import click

from synctune._extras import require
from synctune.cli._errors import fail
from synctune.cli._existing import existing_option
from synctune.cli._output import Output
from synctune.live.replica.base import Replica
from synctune.live.replica.errors import SyncError
from synctune.live.replica.factory import TOKEN_ENV, check_url, open_replica
from synctune.live.replica.urls import safe_url
from synctune.policy import SyncStrategy, _check
from synctune.policy.spec import strategy_forms, strategy_from_spec

#: exit codes: 0 stopped with nothing unpushed; 2 bad input (see _errors)
if TYPE_CHECKING:
    from synctune.live.announce import Announcer
    from synctune.live.control.recorder import TraceRecorder
    from synctune.live.control.shutdown import StopReport

ANNOUNCE_ENV = "SYNCTUNE_ANNOUNCE_URL"
EXIT_UNFLUSHED = 1  # local changes remain unpushed, or the replica could not be opened
EXIT_INTERRUPTED = 130  # signalled before start-up finished: nothing was started


class Announcing(NamedTuple):
    """How the controller announces: ``announcer`` (None: not at all) and, for a watcher, the
    heartbeat period (s)."""

    announcer: Announcer | None
    heartbeat: float | None = None
    #: opens the replica in place of ``open_replica`` (``synctune watch``: asks for long-poll)
    opener: Callable[[], Replica] | None = None
    #: the strategy once the replica is open (``synctune watch``: whether pulls are held)
    strategy_for: Callable[[Replica], SyncStrategy] | None = None


NOT_ANNOUNCING = Announcing(None)


@click.command()
@click.option("--db", "db", required=True, type=click.Path(dir_okay=False),
              help="Local replica file.")
@click.option("--url", required=True, help="The primary's sync URL (http://, https://, libsql://).")
@click.option("--freshness", required=True, type=float,
              help="Freshness target in seconds (how stale a read may be).")
@click.option("--strategy", "spec", default="adaptive", show_default=True,
              help=f"Strategy spec: {strategy_forms()}.")
@click.option("--metrics-port", type=int, default=None,
              help="Serve Prometheus metrics on --metrics-addr:PORT (0 picks a free port).")
@click.option("--metrics-addr", default="127.0.0.1", show_default=True,
              help="Address the metrics endpoint binds (0.0.0.0: reachable from outside a "
                   "container).")
@click.option("--auth-token", envvar=TOKEN_ENV, default=None, show_envvar=True,
              help=f"Bearer token; prefer the {TOKEN_ENV} variable (options show up in ps).")
@click.option("--adapter", type=click.Choice(["turso", "libsql"]), default="turso",
              show_default=True, help="Client library.")
@click.option("--status-every", type=float, default=5.0, show_default=True,
              help="Seconds between status lines.")
@click.option("--stop-deadline", type=float, default=10.0, show_default=True,
              help="Seconds allowed on exit to push what is left: a push still running then "
                   "starts no new batch, and one the network holds up is abandoned.")
@click.option("--duration", type=float, default=None,
              help="Stop by itself after this many seconds (default: run until signalled).")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]),
              default="warning", show_default=True, help="Logging on stderr.")
@click.option("--record", "record", type=click.Path(dir_okay=False), default=None,
              help="Record the traffic seen (reads, commits, pulls) as a trace (.csv or "
                   ".parquet) for synctune compare/recommend --trace.")
@existing_option
@click.option("--record-max-bytes", type=int, default=64 * 2**20, show_default=True,
              help="Rotate the recording at this size (NAME.1.csv, NAME.2.csv...).")
@click.option("--announce", envvar=ANNOUNCE_ENV, default=None, show_envvar=True,
              help="Commit announcements: redis:// or rediss:// URL (credentials in it; prefer "
                   f"the {ANNOUNCE_ENV} variable). Announces this replica's pushes and hears "
                   "others' (use --strategy announced).")
@click.option("--no-watcher", "no_watcher", is_flag=True, default=False,
              help="With --announce, for a fleet no synctune watch serves (every write comes "
                   "from fleet members, which announce their pushes): the channel's own "
                   "liveness keeps the replica off its fallback instead of watcher heartbeats. "
                   "Writes from outside the fleet are then never announced.")
def run(db: str, url: str, freshness: float, spec: str, metrics_port: int | None,
        metrics_addr: str, auth_token: str | None, adapter: str, status_every: float,
        stop_deadline: float, duration: float | None, log_level: str, record: str | None,
        record_max_bytes: int, existing: str, announce: str | None, no_watcher: bool) -> None:
    """Keep the replica at --db fresh against --url until Ctrl-C or SIGTERM.

    For a replica file nothing else opens: pyturso locks the file for one process, so this
    cannot run beside an app on the same file (an app embeds SyncController, one replica per
    worker process). Use it to keep a standby copy warm, or to try a strategy, its metrics
    and alerts against a real primary.

    Prints a status line every --status-every seconds. On Ctrl-C or SIGTERM it pushes what is
    left and exits within --stop-deadline (plus process exit): a push still running then starts
    no new batch (the primary keeps those it acknowledged), and a sync the network holds up is
    abandoned. Exit codes: 0 nothing left unpushed; 1 local changes not confirmed pushed (they
    stay in the file and the next start pushes them) or the replica could not be opened; 2 bad
    input; 130 stopped while opening the replica.
    """
    _check.real("freshness", freshness, minimum=0.0, strict=True)
    _check.real("status_every", status_every, minimum=0.0, strict=True)
    _check.real("stop_deadline", stop_deadline, minimum=0.0)
    if duration is not None:
        _check.real("duration", duration, minimum=0.0)
    if metrics_port is not None:
        if not 0 <= metrics_port <= 65535:
            fail(f"--metrics-port must be in 0..65535, got {metrics_port!r}")
        require("--metrics-port", "prometheus", "prometheus_client")
    check_url(url)
    if no_watcher and announce is None:
        fail(f"--no-watcher needs --announce (or {ANNOUNCE_ENV})")
    announcer = announcer_for(announce, url, fleet_watcher=not no_watcher)
    # both adapters report a pull as "changed or not", never a count of commits
    strategy = strategy_from_spec(spec, freshness, bool_pulls=True)
    recorder = None
    if record is not None:  # checked (and the file created) before anything starts
        from synctune.live.control.recorder import TraceRecorder

        recorder = TraceRecorder(record, max_bytes=record_max_bytes)
    serve(db, url, auth_token, adapter, strategy, metrics_port, status_every, stop_deadline,
          duration, log_level, Announcing(announcer), metrics_addr=metrics_addr,
          freshness=freshness, recorder=recorder, existing=existing)


def announcer_for(announce: str | None, url: str, *,
                  fleet_watcher: bool = True) -> Announcer | None:
    """The announcer for ``--announce`` (checked: exit 2 on a bad URL), or None
    (``fleet_watcher``: see :class:`~synctune.live.announce.Announcer`)."""
    if announce is None:
        return None
    if announce.partition("://")[0].lower() not in ("redis", "rediss", "unix"):
        fail(f"--announce must be a redis://, rediss:// or unix:// URL, got "
             f"{safe_url(announce)!r}")
    require("--announce", "redis", "redis")
    from synctune.live.announce import Announcer, open_channel

    try:
        return Announcer(open_channel(announce), url, fleet_watcher=fleet_watcher)
    except ValueError as exc:
        fail(f"--announce {safe_url(announce)!r}: {exc}")


def serve(db: str, url: str, auth_token: str | None, adapter: str, strategy: SyncStrategy,
          metrics_port: int | None, status_every: float, stop_deadline: float,
          duration: float | None, log_level: str, announcing: Announcing, *,
          metrics_addr: str, freshness: float, recorder: TraceRecorder | None = None,
          existing: str = "refuse") -> None:
    """Run the controller until signalled or ``duration`` ends; exits with its code."""
    logging.basicConfig(level=log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # from here on Ctrl-C and SIGTERM only ask for a stop: no KeyboardInterrupt, no traceback
    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    out = Output()
    try:
        code = _serve(db, url, auth_token, adapter, strategy, metrics_port, status_every,
                      stop_deadline, duration, stop, metrics_addr=metrics_addr,
                      freshness=freshness, recorder=recorder, echo=out.echo,
                      existing=existing, announcing=announcing)
    finally:
        if announcing.announcer is not None:
            announcing.announcer.channel.close()
        for s, handler in previous.items():
            signal.signal(s, handler)
        written = out.close(1.0)
    if not written:
        # stdout is a full pipe nobody reads: the controller has stopped, so exit without the
        # interpreter's final flush of stdout, which would block (or abort) on it
        os._exit(code)
    if code:
        raise SystemExit(code)


def _open(db: str, url: str, auth_token: str | None, adapter: str, stop: threading.Event,
          stop_deadline: float, existing: str = "refuse",
          opener: Callable[[], Replica] | None = None) -> Replica | int:
    """Open (maybe bootstrap) the replica in a worker thread, so a signal is answered at once.

    Returns the replica, or an exit code. Signalled mid-open, we let the open finish for up to
    --stop-deadline (a bootstrap is not cut half-written), close what it opened, and exit.
    """
    box: list[Replica | BaseException] = []
    opened = threading.Event()

    def work() -> None:
        try:
            box.append(opener() if opener is not None
                       else open_replica(db, url, auth_token=auth_token, adapter=adapter,
                                         existing=existing))
        except BaseException as exc:  # handed to the main thread
            box.append(exc)
        finally:
            opened.set()

    threading.Thread(target=work, name="synctune-open", daemon=True).start()
    while not opened.wait(0.05):
        if stop.is_set():
            if opened.wait(stop_deadline) and box and isinstance(box[0], Replica):
                box[0].close()
            click.echo("synctune: stopped while opening the replica; nothing was started",
                       err=True)
            return EXIT_INTERRUPTED
    result = box[0]
    if isinstance(result, SyncError):
        click.echo(f"synctune: error: cannot open the replica: {result}", err=True)
        return EXIT_UNFLUSHED
    if isinstance(result, BaseException):
        raise result
    moved = getattr(result, "moved_aside", None)
    if moved is not None:
        click.echo(f"synctune: {db} was not a replica of this primary: moved aside to {moved}")
    return result


def _serve(db: str, url: str, auth_token: str | None, adapter: str, strategy: SyncStrategy,
           metrics_port: int | None, status_every: float, stop_deadline: float,
           duration: float | None, stop: threading.Event, *, metrics_addr: str,
           freshness: float, recorder: TraceRecorder | None = None,
           echo: Callable[[str], None] = click.echo, existing: str = "refuse",
           announcing: Announcing = NOT_ANNOUNCING) -> int:
    from synctune.live.control.controller import SyncController

    began = time.monotonic()
    replica = _open(db, url, auth_token, adapter, stop, stop_deadline, existing,
                    announcing.opener)
    if isinstance(replica, int):
        return replica
    strategy = strategy if announcing.strategy_for is None else announcing.strategy_for(replica)
    # D comes from the strategy; only one without (periodic, on-write, presets) needs it here
    slo = freshness if strategy.freshness_target is None else None
    controller = SyncController(replica, strategy, freshness=slo, recorder=recorder,
                                announcer=announcing.announcer,
                                watcher_heartbeat=announcing.heartbeat)
    metrics = None
    try:
        controller.start()
        echo(f"synctune: running {strategy!r} on {replica!r}"
             + ("" if announcing.announcer is None else f", {announcing.announcer!r}"))
        if metrics_port is not None:
            from synctune.live.ops.prometheus import MetricsServer

            try:
                metrics = MetricsServer(controller, port=metrics_port, addr=metrics_addr)
            except (OSError, ValueError) as exc:
                fail(f"metrics-addr {metrics_addr!r} port {metrics_port}: "
                     f"{getattr(exc, 'strerror', None) or exc}")
            echo(f"synctune: metrics at {metrics.url}")
        end = None if duration is None else began + duration
        while not stop.is_set():
            wait = status_every if end is None else min(status_every, end - time.monotonic())
            if wait <= 0 or stop.wait(wait):
                break
            echo(f"synctune: {controller.status().line()}")
    finally:
        if metrics is not None:  # its shutdown polls every 0.5 s: let it run beside the stop
            threading.Thread(target=metrics.close, daemon=True).start()
        controller.stop(stop_deadline)
        report = controller.stop_report
        if report is not None and report.ended:
            replica.close()
        # else a sync is stuck in the network: the replica stays with it until the process
        # exits; the engine never confirmed what it was sending, so the next start resends it
    assert report is not None
    return _stopped(report, controller.status().line(), echo)


def _stopped(report: StopReport, status: str, echo: Callable[[str], None]) -> int:
    """Say how the stop went; the exit code."""
    echo(f"synctune: stopped: {report.message()}")
    echo(f"synctune: {status}")
    if not report.flushed:
        click.echo(f"synctune: error: {report.unpushed} local changes not confirmed pushed "
                   f"(exit {EXIT_UNFLUSHED})", err=True)
        return EXIT_UNFLUSHED
    return 0
