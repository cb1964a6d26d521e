"""``synctune run --announce`` and ``synctune watch`` as real subprocesses, against the real
tursodb and a private redis-server; their bad input exits 2 without showing credentials."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from announce_support import Heard
from live_support import wait_for

from synctune.live.announce import primary_id
from synctune.live.announce.redis_channel import RedisChannel


def _synctune(*args: str, env: dict[str, str] | None = None,
              timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "synctune", *args], capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})},
                          stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("args", [
    ("run", "--db", "x.db", "--url", "http://127.0.0.1:9", "--freshness", "5",
     "--announce", "http://user:pw-SECRET@127.0.0.1:1/"),
    ("watch", "--db", "x.db", "--url", "http://127.0.0.1:9", "--freshness", "5",
     "--announce", "memcache://user:pw-SECRET@127.0.0.1:1/"),
    ("watch", "--db", "x.db", "--url", "http://127.0.0.1:9", "--freshness", "-1",
     "--announce", "redis://user:pw-SECRET@127.0.0.1:1/"),
    ("watch", "--db", "x.db", "--url", "http://127.0.0.1:9", "--freshness", "5",
     "--heartbeat", "0", "--announce", "redis://user:pw-SECRET@127.0.0.1:1/"),
    ("run", "--db", "x.db", "--url", "http://user:pw-SECRET@127.0.0.1:9", "--freshness", "5",
     "--no-watcher"),
])
def test_bad_announce_input_exits_2_with_one_line_and_no_secret(args, tmp_path):
    out = _synctune(*args)
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr and "SECRET" not in out.stderr + out.stdout
    assert "error" in out.stderr.lower()


@pytest.mark.server
def test_watch_finds_no_long_poll_polls_announces_and_beats(server, redis_server, tmp_path):
    heard = Heard()
    channel = RedisChannel(redis_server.url)
    sub = channel.subscribe(primary_id(server.url), heard.on_hint, heard.on_state)
    assert wait_for(lambda: sub.up, 5)
    out = _synctune("watch", "--url", server.url, "--db", str(tmp_path / "w.db"),
                    "--freshness", "2", "--heartbeat", "0.5", "--duration", "4", "--long-poll",
                    "--status-every", "1", env={"SYNCTUNE_ANNOUNCE_URL": redis_server.url})
    sub.close()
    channel.close()
    assert out.returncode == 0, out.stderr
    assert "answers pulls at once" in out.stderr
    assert f"RedisChannel('redis://127.0.0.1:{redis_server.port}/0')" in out.stdout
    assert "SECRET" not in out.stdout + out.stderr
    assert "long_poll=False" in out.stdout
    assert sum(h.kind == "heartbeat" for _, h in heard.hints) >= 4


@pytest.mark.server
def test_run_with_announce_announces_its_push(server, redis_server, tmp_path):
    from live_support import hold_local_rows

    db = tmp_path / "a.db"
    hold_local_rows(db, server.url, 3)  # three commits in the file, not pushed yet
    heard = Heard()
    channel = RedisChannel(redis_server.url)
    sub = channel.subscribe(primary_id(server.url), heard.on_hint, heard.on_state)
    assert wait_for(lambda: sub.up, 5)
    out = _synctune("run", "--db", str(db), "--url", server.url, "--freshness", "2",
                    "--strategy", "announced", "--duration", "3", "--status-every", "1",
                    env={"SYNCTUNE_ANNOUNCE_URL": redis_server.url})
    sub.close()
    channel.close()
    assert out.returncode == 0, out.stderr
    assert "SECRET" not in out.stdout + out.stderr
    assert len(heard.commits()) >= 1  # its push of the held commits


@pytest.mark.server
def test_run_without_a_watcher_hears_on_the_channel_alone(server, redis_server, tmp_path):
    # the wiring only: staying off the fallback on the channel's liveness shows with reads,
    # which a bare run process has none of (test_announce_redis.py checks it with reads)
    out = _synctune("run", "--db", str(tmp_path / "a.db"), "--url", server.url,
                    "--freshness", "2", "--strategy", "announced", "--no-watcher",
                    "--duration", "3", "--status-every", "1",
                    env={"SYNCTUNE_ANNOUNCE_URL": redis_server.url})
    assert out.returncode == 0, out.stderr
    assert f"RedisChannel('redis://127.0.0.1:{redis_server.port}/0')" in out.stdout
    assert "no watcher)" in out.stdout and "SECRET" not in out.stdout + out.stderr
