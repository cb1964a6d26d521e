"""The pyturso adapter: :class:`~synctune.live.replica.turso.adapter.TursoReplica` and the pieces
it drives (the engine wrapper, its HTTP deadline, the backlog count, the push meter)."""
