"""Progress bar for sweeps: tqdm on stderr when available and wanted, silent otherwise."""

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
                 desc: str = "sweep") -> Progress:
    """A bar over ``total`` runs of which ``done`` were already stored (a resumed sweep)."""
    if not enabled:
        return _Silent()
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm comes with the dask extra; run without a bar otherwise
        return _Silent()
    return tqdm(total=total, initial=done, desc=desc, unit="run", dynamic_ncols=True)
