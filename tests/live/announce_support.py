"""Helpers for the announcement tests: a heartbeat sender, a hint recorder, pull counts."""

from __future__ import annotations

import threading
import time

from synctune.live.announce import Announcer, Hint
from synctune.live.fake_replica import FakeReplica

URL = "http://127.0.0.1:9/db"


class Beats:
    """Sends heartbeats for ``announcer`` every ``every`` s on a thread until closed (a watcher
    stand-in)."""

    def __init__(self, announcer: Announcer, every: float = 0.1) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(announcer, every), daemon=True)
        self._thread.start()

    def _run(self, announcer: Announcer, every: float) -> None:
        while not self._stop.is_set():
            announcer.heartbeat()
            self._stop.wait(every)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)


class Heard:
    """A subscriber that keeps what it hears and the channel states it is told."""

    def __init__(self) -> None:
        self.hints: list[tuple[float, Hint]] = []
        self.states: list[tuple[float, bool]] = []

    def on_hint(self, hint: Hint) -> None:
        self.hints.append((time.time(), hint))

    def on_state(self, up: bool) -> None:
        self.states.append((time.time(), up))

    def commits(self) -> list[Hint]:
        return [h for _, h in self.hints if h.kind == "commit"]


def pulls(fake: FakeReplica) -> list[float]:
    """Start times (the fake's timer) of every pull the fake saw."""
    return [c.began for c in fake.calls if c.op == "pull"]
