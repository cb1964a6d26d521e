"""The controller: when to sync, one sync attempt, and what it measured.

:class:`~synctune.live.control.controller.SyncController` drives a strategy against a replica:
the sync thread (``sync_loop``), one attempt (``sync_run``), the strategy's calls
(``strategy_guard``), the attempts (``history``), what is unpushed (``backlog``), the metrics
and alerts (``metrics``, ``telemetry``), the trace (``recorder``), stopping (``shutdown``) and
announcements to and from a fleet (``announce_link``).

Layer: imports :mod:`synctune.live.replica`, :mod:`synctune.live.app` and
:mod:`synctune.live.announce`; nothing imports it but :mod:`synctune.live.ops` and the package.
"""
