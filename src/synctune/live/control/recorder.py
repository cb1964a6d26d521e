"""Record the traffic a controller sees as a trace: reads, local writes, manual sync points and
pulls with their change counts, for replay in ``synctune compare`` and ``synctune recommend``.

The hooks (:meth:`TraceRecorder.read`, :meth:`~TraceRecorder.write`, ...) run on the app's
threads and only append a tuple to a bounded in-memory queue: no lock, no I/O, no waiting, so
recording never slows a commit. A writer thread drains the queue every ``flush_every`` seconds
into the file (CSV, or parquet by extension) and rotates it by size: when the current file
reaches ``max_bytes`` it is renamed ``NAME.1.csv``, ``NAME.2.csv``... (oldest first; at most
``keep`` are kept) and a new ``NAME.csv`` begins. Every part is a trace on its own, and all share
one time origin (the recorder's start), so parts concatenate. When the queue is full (the disk
cannot keep up) events are dropped and counted (:attr:`TraceRecorder.dropped`), never waited for.

CSV is written row by row and survives a crash up to the last flush; a parquet part is only
readable once closed (rotation or :meth:`TraceRecorder.close`).
"""

from __future__ import annotations

import csv
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from synctune._trace_format import RECORD_COLUMNS
from synctune.policy import _check
from synctune.policy.errors import InvalidInput

log = logging.getLogger("synctune.live")

__all__ = ["TraceRecorder"]

# (monotonic time, op, bytes, n): n is the changes of a pull, the count of a write batch
_Event = tuple[float, str, int, int]


class TraceRecorder:
    """Writes one node's traffic to ``path`` in a background thread.

    Args:
        path: trace file (``.csv``, or ``.parquet`` with the parquet extra).
        node: the node name written in each row.
        max_bytes: rotate when the current file reaches this size (bytes).
        keep: rotated parts kept beside the current file (the oldest are removed).
        flush_every: seconds between writes to the file.
        max_pending: events held in memory before new ones are dropped.
        clock: monotonic seconds; row times are measured from :meth:`start`.
    """

    def __init__(self, path: str | os.PathLike[str], *, node: str = "app",
                 max_bytes: int = 64 * 2**20, keep: int = 10, flush_every: float = 1.0,
                 max_pending: int = 1_000_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.path = Path(path)
        if not isinstance(node, str) or not node.strip() or node.strip() == "primary" \
                or "," in node or "\n" in node:
            raise InvalidInput(f"node must be a plain node name other than 'primary', "
                               f"got {node!r}")
        self.node = node.strip()
        self.parquet = self.path.suffix.lower() in (".parquet", ".pq")
        if self.parquet:
            from synctune._extras import require

            require("recording a parquet trace", "parquet", "pyarrow")
        if not self.path.parent.is_dir():
            raise InvalidInput(f"record path {str(self.path)!r}: no such directory "
                               f"{str(self.path.parent)!r}")
        if self.path.exists():  # never overwrite a recording
            raise InvalidInput(f"record path {str(self.path)!r} already exists; pick a new name")
        self.max_bytes = _check.count("max_bytes", max_bytes)
        if self.max_bytes < 1024:
            raise InvalidInput(f"max_bytes must be >= 1024, got {max_bytes!r}")
        self.keep = _check.count("keep", keep)
        self.flush_every = _check.real("flush_every", flush_every, minimum=0.0, strict=True)
        self.max_pending = _check.count("max_pending", max_pending)
        self._clock = clock
        self._events: deque[_Event] = deque()
        self.dropped = 0
        #: rows written so far, all parts
        self.rows = 0
        self._t0 = 0.0
        self._last_t = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._fh: IO[str] | None = None
        self._csv: Any = None
        self._pq: Any = None
        self._parts = 0

    # ------------------------------------------------------------------ hooks
    def _add(self, op: str, nbytes: int = 0, changes: int = 0) -> None:
        if self._stop.is_set():  # closed: nothing drains the queue any more
            return
        events = self._events
        if len(events) >= self.max_pending:
            self.dropped += 1
            return
        events.append((self._clock(), op, nbytes, changes))  # deque.append is atomic

    def read(self, count: int = 1) -> None:
        """The app read from the replica ``count`` times (one queue entry)."""
        self._add("read", 0, count)

    def write(self, count: int = 1, nbytes: int = 0) -> None:
        """The app committed ``count`` writes (``nbytes`` each when known, else 0); one queue
        entry whatever the count, expanded into rows by the writer thread."""
        self._add("write", nbytes, count)

    def sync_point(self) -> None:
        """The app asked for a sync (a manual sync point)."""
        self._add("sync")

    def pull(self, changes: int) -> None:
        """A pull just applied ``changes`` remote changes."""
        self._add("pull", 0, changes)

    # -------------------------------------------------------------- lifecycle
    def start(self) -> TraceRecorder:
        """Open the file and start the writer thread; returns ``self``."""
        if self._thread is not None:
            raise RuntimeError("TraceRecorder.start: already started")
        self._t0 = self._clock()
        self._open()
        self._thread = threading.Thread(target=self._run, name="synctune-record", daemon=True)
        self._thread.start()
        return self

    @property
    def started(self) -> bool:
        """True once :meth:`start` ran."""
        return self._thread is not None

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued and close the file (idempotent); later events are ignored."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self.dropped:
            log.warning("trace recorder dropped %d events (the disk did not keep up)",
                        self.dropped)

    def __enter__(self) -> TraceRecorder:
        return self if self.started else self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------- the writer
    def _open(self) -> None:
        # private by default: the trace shows when and how much the app reads and writes
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        if self.parquet:
            import pyarrow as pa
            import pyarrow.parquet as pq

            os.close(fd)  # created private; the writer reopens it
            schema = pa.schema([("t", pa.float64()), ("node", pa.string()), ("op", pa.string()),
                                ("bytes", pa.string()), ("changes", pa.int64())])
            self._pq = pq.ParquetWriter(str(self.path), schema)
        else:
            self._fh = os.fdopen(fd, "w", newline="", encoding="utf-8")
            self._csv = csv.writer(self._fh)
            self._csv.writerow(RECORD_COLUMNS)
            self._fh.flush()

    def _close_file(self) -> None:
        if self._pq is not None:
            self._pq.close()
            self._pq = None
        if self._fh is not None:
            self._fh.close()
            self._fh = self._csv = None

    def _size(self) -> int:
        if self._fh is not None:
            return self._fh.tell()
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

    def _rotate(self) -> None:
        self._close_file()
        self._parts += 1
        stem, suffix = self.path.stem, self.path.suffix
        os.replace(self.path, self.path.with_name(f"{stem}.{self._parts}{suffix}"))
        old = self._parts - self.keep
        if old >= 1:
            self.path.with_name(f"{stem}.{old}{suffix}").unlink(missing_ok=True)
        self._open()

    def _drain(self) -> None:
        events = self._events
        rows: list[tuple[float, str, str, str, int]] = []
        node, t0 = self.node, self._t0
        while events:
            t, op, nbytes, changes = events.popleft()
            # an unknown write size stays empty: the replay then uses its default size
            size = str(nbytes) if nbytes > 0 else ""
            if op in ("write", "read"):  # a batch: one row each, no change count
                rows.extend([(max(0.0, t - t0), node, op, size, 0)] * changes)
            else:
                rows.append((max(0.0, t - t0), node, op, size, changes))
        if not rows:
            return
        rows.sort(key=lambda r: r[0])  # threads stamp, then queue: restore time order
        # and never behind the rows already written (a trace's time does not go backwards)
        last = self._last_t
        rows = [(t if t >= last else last, n, op, b, c) for t, n, op, b, c in rows]
        self._last_t = rows[-1][0]
        if self._pq is not None:
            import pyarrow as pa

            cols = list(zip(*rows, strict=True))
            self._pq.write_table(pa.table(dict(zip(RECORD_COLUMNS, cols, strict=True)),
                                          schema=self._pq.schema))
        else:
            assert self._csv is not None and self._fh is not None
            self._csv.writerows((f"{t:.6f}", n, op, b, c) for t, n, op, b, c in rows)
            self._fh.flush()
        self.rows += len(rows)
        if self._size() >= self.max_bytes:
            self._rotate()

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.flush_every):
                self._drain()
            self._drain()
        except Exception:
            log.exception("trace recorder failed; recording stopped (the app is not affected)")
            self._events.clear()
            self.max_pending = 0  # drop everything from now on
        finally:
            self._close_file()

    def __repr__(self) -> str:
        return f"TraceRecorder({str(self.path)!r}, node={self.node!r}, rows={self.rows})"
