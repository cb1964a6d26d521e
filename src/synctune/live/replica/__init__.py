"""The seam to a database: a replica that can pull and push, and its adapters.

:mod:`~synctune.live.replica.base` is the seam (:class:`Replica`, its results and its
capabilities); :mod:`~synctune.live.replica.errors` how it fails. The adapters: ``turso``
(pyturso, the tursodb sync protocol), ``libsql``, ``local`` (a plain file), ``remote`` (a client
of the primary) and ``fake`` (in memory, for tests). Opening a file safely: ``factory``,
``safe_open``, ``open_guard``, ``replica_file``, ``primary_check``.

Layer: imports :mod:`synctune.live.app` (the connections an adapter hands the app) and
:mod:`synctune.live.timing`, never the controller.
"""
