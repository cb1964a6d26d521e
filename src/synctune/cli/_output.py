"""Stdout lines written by a daemon thread, so a pipe nobody reads never blocks the caller.

``synctune run``'s main thread answers signals and stops the controller; a write to a full
stdout pipe would block it for good (a signal only sets the stop event, then the write resumes).
"""

from __future__ import annotations

import contextlib
import queue
import threading

import click

#: status lines held while stdout is slow; beyond this new ones are dropped
HELD_LINES = 256


class Output:
    """Queue lines for stdout; a daemon thread writes them in order."""

    def __init__(self) -> None:
        self._lines: queue.Queue[str | None] = queue.Queue(HELD_LINES)
        self._writer = threading.Thread(target=self._write, name="synctune-stdout",
                                        daemon=True)
        self._writer.start()

    def echo(self, line: str) -> None:
        """Queue ``line``; dropped when stdout has not taken the last ``HELD_LINES``."""
        with contextlib.suppress(queue.Full):
            self._lines.put_nowait(line)

    def close(self, timeout: float) -> bool:
        """Write what is queued within ``timeout`` seconds; False when stdout is stuck."""
        try:
            self._lines.put(None, timeout=timeout)
        except queue.Full:
            return False
        self._writer.join(timeout)
        return not self._writer.is_alive()

    def _write(self) -> None:
        while (line := self._lines.get()) is not None:
            click.echo(line)
