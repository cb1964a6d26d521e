"""Per-thread deadlines for pyturso's HTTP calls, without touching anyone else's sockets.

pyturso 0.8.3 does its sync HTTP with ``urllib.request.urlopen(request)`` and no timeout, so a
primary that accepts a connection and never answers would hang a pull forever. We rebind the
name ``urllib`` *inside the module* ``turso.lib_sync`` only to a tiny stand-in whose ``urlopen``
reads a deadline from a thread-local: every connect and every read of the response is bounded by
the time left until the deadline, and a response still streaming at the deadline raises
``TimeoutError`` (pyturso turns that into a failed operation). The real ``urllib`` module, other
libraries and the app's own sockets are untouched, and a thread without a deadline gets
pyturso's original behaviour. No ``socket.setdefaulttimeout``.
"""

from __future__ import annotations

import contextlib
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

_local = threading.local()
_install_lock = threading.Lock()


def _remaining() -> float | None:
    deadline: float | None = getattr(_local, "deadline", None)
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("sync deadline passed (timed out)")
    return left


class _BoundedResponse:
    """Wraps an HTTP response so every ``read`` is bounded by the thread's deadline."""

    def __init__(self, resp: Any) -> None:
        self._resp = resp
        self.status = getattr(resp, "status", None)

    def getcode(self) -> int | None:
        return self._resp.getcode()

    def read(self, size: int = -1) -> bytes:
        left = _remaining()
        if left is not None:
            with contextlib.suppress(AttributeError, OSError):
                self._resp.fp.raw._sock.settimeout(left)
        data: bytes = self._resp.read(size)
        return data

    def __enter__(self) -> _BoundedResponse:
        return self

    def __exit__(self, *exc: object) -> None:
        self._resp.close()


def _urlopen(request: Any, *args: Any, **kwargs: Any) -> Any:
    left = _remaining()
    if left is None:
        return urllib.request.urlopen(request, *args, **kwargs)
    kwargs["timeout"] = left
    return _BoundedResponse(urllib.request.urlopen(request, *args, **kwargs))


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
def deadline(seconds: float) -> Iterator[None]:
    """Bound pyturso HTTP made by this thread to ``seconds`` from now."""
    previous = getattr(_local, "deadline", None)
    _local.deadline = time.monotonic() + seconds
    try:
        yield
    finally:
        _local.deadline = previous
