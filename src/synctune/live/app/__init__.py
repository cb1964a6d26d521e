"""What the app holds: connections safe under threads and forks, and worker slots.

:class:`~synctune.live.app.connection.SyncedConnection` (and its async twin) serialises local
writers and never runs a statement twice; adapters hand it out, the controller adds its hooks.

Layer: the bottom of :mod:`synctune.live`; imports only :mod:`synctune.live.timing`.
"""
