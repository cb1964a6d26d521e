"""``synctune doctor``: the guide's checklists against a real replica."""

from __future__ import annotations

import json
import os

import click

from synctune._extras import require
from synctune.cli._existing import existing_option
from synctune.live.replica.urls import TOKEN_ENV, URL_ENV, check_url
from synctune.policy import PRESETS, _check
from synctune.policy import preset as get_preset


@click.command()
@click.option("--db", type=click.Path(dir_okay=False), default=None,
              help="Local replica file (default: the environment's file from the guide).")
@click.option("--url", default=None, help=f"The primary's URL (default: ${URL_ENV}).")
@click.option("--auth-token", envvar=TOKEN_ENV, default=None, show_envvar=True,
              help="Bearer token; never printed.")
@click.option("--env", "env", type=click.Choice(tuple(PRESETS)), default="production",
              show_default=True, help="Environment (the guide's presets).")
@click.option("--timeout", type=float, default=5.0, show_default=True,
              help="Seconds allowed for each network check.")
@existing_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def doctor(db: str | None, url: str | None, auth_token: str | None, env: str, timeout: float,
           as_json: bool, existing: str) -> None:
    """Check environment, URL, token, reachability, integrity, sync state and a manual sync.

    Exits 1 when any check fails.
    """
    from synctune.live.ops.doctor import run_checks  # the adapters load for a check, not for --help

    _check.real("timeout", timeout, minimum=0.0, strict=True)
    if get_preset(env).syncs:
        url = url if url is not None else os.environ.get(URL_ENV) or None
        if url is not None:
            check_url(url)
        require("doctor", "turso", "turso")
    results = run_checks(db, url, auth_token, env, timeout, existing=existing)
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in results], indent=2))
    else:
        width = max(len(r.name) for r in results)
        for r in results:
            click.echo(f"{'PASS' if r.ok else 'FAIL'}  {r.name:<{width}}  {r.detail}")
            if not r.ok and r.hint:
                click.echo(f"      {'':<{width}}  fix: {r.hint}")
    if not all(r.ok for r in results):
        raise SystemExit(1)
