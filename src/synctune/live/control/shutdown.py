"""What a controller's stop achieved: the figures ``stop()``, ``synctune run`` and logs report."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StopReport:
    """The outcome of :meth:`SyncController.stop`.

    Attributes:
        ended: the sync thread ended by the deadline.
        unpushed: local changes not confirmed pushed: the engine's count taken as the thread
            ended, or, when a sync was abandoned, the engine's last count (taken between syncs,
            after the last confirmed push); either plus one per commit reported since (the app
            may go on committing during a stop). Commits after ``stop()`` returned are not in
            it; they stay in the local file for the next start's push.
        exact: True when ``unpushed`` is the engine's own count with nothing reported since;
            else it may overstate (a commit of several rows counts one, a commit racing the
            count may count twice), never understate what ``notify_write`` was told.
        abandoned: the part of a sync still running at the deadline (``"push"``, ``"pull"``)
            or ``None``. A stop cuts a pyturso operation off at its deadline: a push starts no
            new batch after it, and a request already on the network ends by the deadline it
            was sent with. It fails cleanly: the engine keeps every unpushed change for the
            next start, and what reached the primary is not sent twice (the primary records
            the last change of each batch it applied from this client).
        counted_by: ``"engine"`` (row changes, pyturso's CDC backlog) or ``"controller"``
            (commits reported through ``notify_write``, for adapters without a backlog count).
        seconds: how long the stop took (controller timer).
        batches_on_primary: push batches (whole transactions) the primary acknowledged that
            the engine has not confirmed: their rows are still in ``unpushed`` (the engine's
            count), but they are on the primary and the next start does not send them again.
        forked: ``stop()`` ran in a process forked after the controller was made: nothing was
            stopped or pushed there, the sync thread, the replica and its unpushed changes being
            the parent process's (``unpushed`` is 0: the child could commit nothing through it).
    """

    ended: bool
    unpushed: int
    exact: bool
    abandoned: str | None
    counted_by: str
    seconds: float
    batches_on_primary: int = 0
    forked: bool = False

    @property
    def flushed(self) -> bool:
        """True when nothing committed locally is left unpushed."""
        return self.unpushed == 0

    def message(self) -> str:
        """One truthful line for logs and ``synctune run`` (numbers only, no secrets)."""
        if self.forked:
            return ("stop() ran in a process forked from the one that started the controller: "
                    "nothing to stop or push here; the parent process's sync thread keeps the "
                    "replica and its unpushed changes and stops them")
        unit = "local row changes" if self.counted_by == "engine" else "local commits"
        if self.flushed:
            what = "all local changes pushed"
        else:
            bound = "" if self.exact else " (engine count at its last check plus commits since)"
            what = f"{self.unpushed} {unit} not confirmed pushed{bound}; "
            if self.batches_on_primary:
                what += (f"the primary already holds {self.batches_on_primary} push batches of "
                         f"them (whole transactions), which the next start skips; the others")
            else:
                what += "they"
            what += " stay in the local file and are pushed by the next start"
        if self.abandoned is not None:
            return (f"stop deadline reached during a {self.abandoned}, which was abandoned "
                    f"after {self.seconds:.2f} s; {what}")
        return f"stopped in {self.seconds:.2f} s; {what}"
