"""An app worker process for the end-to-end announcement test (run as a script).

It claims a worker slot of ``APP_DB``, keeps its replica with ``Announced`` over Redis, reads
the newest outside row every 50 ms, writes a row of its own (local-first, pushed by the
controller) at each of the offsets (s) after the time written in the file ``GO``, and on
SIGTERM stops and writes what it saw as JSON to ``OUT``. The Redis URL comes from
``SYNCTUNE_ANNOUNCE_URL``.

Usage: announce_worker.py APP_DB URL D GO OUT OFFSET...
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time

from synctune.live import SyncController
from synctune.live.announce import Announcer
from synctune.live.announce.redis_channel import RedisChannel
from synctune.live.app.worker_slot import claim_worker_slot
from synctune.live.replica.turso.adapter import TursoReplica
from synctune.policy import Announced


def main(app_db: str, url: str, redis_url: str, d: float, go: str, out: str,
         offsets: list[float]) -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    slot = claim_worker_slot(app_db)
    replica = TursoReplica(slot.path, url)
    channel = RedisChannel(redis_url, timeout=0.5, ping_every=0.25, dead_after=1.0)
    strategy = Announced(d, heartbeat_timeout=3.0, min_interval=0.2)
    ctl = SyncController(replica, strategy, freshness=d, check_every=0.1,
                         announcer=Announcer(channel, url))
    offset = time.time() - time.monotonic()  # the controller's clock is monotonic
    reads, fallback, written = [], [], []
    ctl.start()
    conn = ctl.connection()
    plan: list[float] | None = None
    print("ready", flush=True)
    while not stop.is_set():
        if plan is None and os.path.exists(go):
            with open(go, encoding="utf-8") as f:
                t0 = float(f.read())
            plan = [t0 + o for o in offsets]
        seen = conn.execute("SELECT coalesce(max(n), 0) FROM t WHERE src = 'out'").fetchall()
        reads.append((time.time(), int(seen[0][0])))
        snap = ctl.announcements()
        fallback.append((time.time(), bool(snap is not None and snap.fallback_active)))
        if plan and time.time() >= plan[0]:
            plan.pop(0)
            n = len(written) + 1
            conn.execute("INSERT INTO t(src, n) VALUES (?, ?)", (f"w{slot.index}", n))
            conn.commit()
            written.append((n, time.time()))
        stop.wait(0.05)
    flushed = ctl.stop(10.0)
    pulls = [(a.started + offset, a.reason) for a in ctl.history if a.ok]
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"slot": slot.index, "reads": reads, "fallback": fallback, "pulls": pulls,
                   "written": written, "flushed": flushed,
                   "hints": ctl.announcements().hints if ctl.announcements() else {}}, f)
    channel.close()
    replica.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], os.environ["SYNCTUNE_ANNOUNCE_URL"], float(sys.argv[3]),
         sys.argv[4], sys.argv[5], [float(a) for a in sys.argv[6:]])
