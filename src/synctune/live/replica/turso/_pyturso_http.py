"""Per-thread HTTP deadlines for pyturso's ``urllib`` calls, and the push batch meter on them.

pyturso calls ``urllib.request.urlopen(request)`` with no timeout. The name ``urllib`` inside
``turso.lib_sync`` (and nowhere else) is rebound to a stand-in (:func:`install`) whose
``urlopen`` bounds every connect and read by the calling thread's deadline (:func:`deadline`),
which a stop may bring forward (:class:`Cutoff`); a thread without one gets pyturso's own
behaviour. See :mod:`synctune.live.replica.turso._pyturso` for the rest of pyturso's internals
we use.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

from synctune.live.replica.turso.push_meter import PushMeter

# ------------------------------------------------------------------ per-thread HTTP deadlines
_local = threading.local()
_install_lock = threading.Lock()


class Deadline:
    """A thread's HTTP deadline (monotonic s); another thread may bring it forward (a stop)."""

    __slots__ = ("end",)

    def __init__(self, end: float) -> None:
        self.end = end

    def cut(self, end: float) -> None:
        """Bring the deadline forward to ``end`` (monotonic s); never pushes it back."""
        self.end = min(self.end, end)


def _remaining() -> float | None:
    current: Deadline | None = getattr(_local, "deadline", None)
    if current is None:
        return None
    left = current.end - time.monotonic()
    if left <= 0:
        raise TimeoutError("sync deadline passed (timed out)")
    return left


class _BoundedResponse:
    """Wraps an HTTP response so every ``read`` is bounded by the thread's deadline, and tells
    the thread's push meter (if any) when its request was answered in full."""

    def __init__(self, resp: Any, meter: PushMeter | None = None,
                 token: float | None = None) -> None:
        self._resp = resp
        self.status = getattr(resp, "status", None)
        self._meter, self._token = meter, token

    def getcode(self) -> int | None:
        code: int | None = self._resp.getcode()
        return code

    def read(self, size: int = -1) -> bytes:
        left = _remaining()
        if left is not None:
            with contextlib.suppress(AttributeError, OSError):
                self._resp.fp.raw._sock.settimeout(left)
        data: bytes = self._resp.read(size)
        if not data and size != 0 and self._meter is not None:
            self._meter.answered(self._token, self.status)
            self._meter = None
        return data

    def __enter__(self) -> _BoundedResponse:
        return self

    def __exit__(self, *exc: object) -> None:
        self._resp.close()


def _urlopen(request: Any, *args: Any, **kwargs: Any) -> Any:
    left = _remaining()
    meter: PushMeter | None = getattr(_local, "meter", None)
    if left is None and meter is None:
        return urllib.request.urlopen(request, *args, **kwargs)
    if left is not None:
        kwargs["timeout"] = left
    token = None if meter is None else meter.before_request(getattr(request, "data", None), left)
    return _BoundedResponse(urllib.request.urlopen(request, *args, **kwargs), meter, token)


_SHIM: object = SimpleNamespace(
    request=SimpleNamespace(Request=urllib.request.Request, urlopen=_urlopen),
    error=urllib.error,
)


def install() -> None:
    """Point ``turso.lib_sync``'s ``urllib`` at the deadline-aware stand-in (idempotent)."""
    import turso.lib_sync as lib_sync

    with _install_lock:
        if lib_sync.urllib is not _SHIM:
            lib_sync.urllib = _SHIM  # type: ignore[assignment]


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[Deadline]:
    """Bound pyturso HTTP made by this thread to ``seconds`` from now; the :class:`Deadline`
    yielded can be brought forward from another thread (it bounds requests started after)."""
    previous = getattr(_local, "deadline", None)
    current = _local.deadline = Deadline(time.monotonic() + seconds)
    try:
        yield current
    finally:
        _local.deadline = previous


class Cutoff:
    """A stop's cut-off for one engine's steps: a step running when it comes, or starting before
    it passes, ends by it (it bounds each HTTP request and read started after it came)."""

    def __init__(self) -> None:
        self._at = -math.inf  # monotonic s
        self._running: Deadline | None = None

    def cut(self, seconds: float) -> None:
        """End what runs now, and what starts in the next ``seconds``, within ``seconds``."""
        self._at = time.monotonic() + max(0.0, seconds)
        running = self._running
        if running is not None:
            running.cut(self._at)

    def bound(self, end: float) -> float:
        """``end`` (monotonic s), or the cut-off if it is sooner and still ahead."""
        return min(end, self._at) if self._at > time.monotonic() else end

    @contextlib.contextmanager
    def running(self, seconds: float) -> Iterator[None]:
        """A :func:`deadline` of ``seconds`` that a :meth:`cut` brings forward."""
        with deadline(seconds) as current:
            self._running = current
            current.cut(self.bound(current.end))  # a cut that came while this was set up
            try:
                yield
            finally:
                self._running = None


@contextlib.contextmanager
def metering(meter: PushMeter) -> Iterator[None]:
    """Count this thread's pyturso HTTP requests into ``meter`` (one push)."""
    previous = getattr(_local, "meter", None)
    _local.meter = meter
    try:
        yield
    finally:
        _local.meter = previous


# ------------------------------------------------------------------------------- the engine
