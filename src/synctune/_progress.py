"""Progress bars for sweeps and comparisons: on a terminal only, never in logs or pipes."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """What the runner needs from a progress bar."""

    def update(self, n: int = 1) -> object: ...

    def close(self) -> None: ...


class _Silent:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(total: int, *, done: int = 0, enabled: bool = True,
                 desc: str = "runs", unit: str = "run") -> Progress:
    """A bar on stderr over ``total`` runs of which ``done`` were already stored (a resumed
    sweep); shown only when stderr is a terminal, so logs and pipes get nothing."""
    if not enabled:
        return _Silent()
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm comes with the sim extra; without it, no bar
        return _Silent()
    # disable=None: tqdm turns itself off when stderr is not a terminal
    return tqdm(total=total, initial=done, desc=desc, unit=unit, dynamic_ncols=True,
                disable=None)
