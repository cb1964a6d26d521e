"""The asyncio writers' lock cannot leak: a handler cancelled mid-transaction, or a connection
dropped with a transaction open, gives it back (its transaction rolled back), so later writes go
on at once; every committed row reaches the primary once, and none that was not committed."""

from __future__ import annotations

import asyncio
import contextlib
import random

import pytest
from live_support import primary_rows

from synctune.live import AsyncSyncController
from synctune.live.app.async_connection import TransactionRolledBack
from synctune.live.replica.turso.adapter import TursoReplica
from synctune.policy import OnWrite

pytestmark = pytest.mark.server

HANDLERS = 1000


async def _write(ctl: AsyncSyncController, k: int, who: str) -> float:
    """Insert one row and commit; returns the seconds it took (at most 5, else it raises)."""
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    conn = ctl.connection()
    await asyncio.wait_for(conn.execute("INSERT INTO t VALUES (?, ?)", (k, who)), 5)
    await asyncio.wait_for(conn.commit(), 5)
    await conn.close()
    return loop.time() - t0


async def _handlers(ctl: AsyncSyncController, rng: random.Random
                    ) -> tuple[set[int], set[int], list[asyncio.Task[None]]]:
    committed: set[int] = set()
    committing: set[int] = set()

    async def handler(k: int) -> None:
        conn = ctl.connection()
        await conn.execute("INSERT INTO t VALUES (?, 'first')", (k,))
        await asyncio.sleep(rng.random() * 0.002)  # cancelled here, or in a statement
        await conn.execute("UPDATE t SET who = 'handler' WHERE k = ?", (k,))
        committing.add(k)
        await conn.commit()
        committed.add(k)
        await conn.close()

    tasks = [asyncio.create_task(handler(k)) for k in range(HANDLERS)]
    await asyncio.sleep(0.3)
    for task in tasks:
        task.cancel()
    await asyncio.wait(tasks)
    return committed, committing, tasks  # the tasks (and their frames) are kept alive


def test_cancelled_and_dropped_transactions_never_hold_up_later_async_writes(server, tmp_path):
    replica = TursoReplica(tmp_path / "a.db", server.url)

    async def main() -> tuple[set[int], set[int], list[float], int]:
        async with AsyncSyncController(replica, OnWrite(coalesce=0.05)) as ctl:
            setup = ctl.connection()
            await setup.execute("CREATE TABLE t(k INTEGER PRIMARY KEY, who TEXT)")
            await setup.commit()
            await setup.close()
            committed, committing, tasks = await _handlers(ctl, random.Random(7))
            cancelled = sum(t.cancelled() for t in tasks)
            took = [await _write(ctl, -1, "after cancels")]

            async def failing() -> None:  # an exception between execute and commit
                conn = ctl.connection()
                await conn.execute("INSERT INTO t VALUES (-2, 'dropped')")
                raise ValueError("an app error")

            with contextlib.suppress(ValueError):
                await failing()  # the connection is dropped with the exception
            took.append(await _write(ctl, -3, "after a drop"))
            kept = ctl.connection()  # its task cancelled, the app keeps it: it says what happened

            async def hold_open() -> None:
                await kept.execute("INSERT INTO t VALUES (-4, 'kept')")
                await asyncio.sleep(3600)

            holder = asyncio.create_task(hold_open())
            while kept.connection is None or not kept.connection.holds_write_lock:
                await asyncio.sleep(0.01)
            holder.cancel()
            await asyncio.wait([holder])
            took.append(await _write(ctl, -5, "after a cancelled task"))
            with pytest.raises(TransactionRolledBack, match="cancelled"):
                await kept.commit()
            await kept.close()
            assert await ctl.sync_now(10)
            del tasks
        return committed, committing, took, cancelled

    committed, committing, took, cancelled = asyncio.run(main())
    assert cancelled > HANDLERS // 2  # most were cancelled mid-way
    assert max(took) < 2.0, took  # was: waited for good behind a cancelled transaction
    rows = dict(primary_rows(server.url, tmp_path, "SELECT k, who FROM t"))
    handled = {k for k, who in rows.items() if k >= 0}
    assert committed <= handled <= committing  # a cancelled commit may or may not have landed
    assert all(rows[k] == "handler" for k in handled)  # never half a transaction
    assert {k: who for k, who in rows.items() if k < 0} == {
        -1: "after cancels", -3: "after a drop", -5: "after a cancelled task"}
