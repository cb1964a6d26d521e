"""``--existing``: what ``run`` and ``doctor`` do with a --db file that is not a sound replica
of the primary (see :func:`synctune.live.replica.factory.open_replica`)."""

from __future__ import annotations

import click

#: the choices, as open_replica's ``existing`` takes them
CHOICES = ("refuse", "move-aside", "new-url")

existing_option = click.option(
    "--existing", type=click.Choice(CHOICES), default="refuse", show_default=True,
    help="A --db file that is not a replica of the primary (a plain SQLite database, another "
         "primary's replica, a damaged replica): refuse it and exit 1 (nothing touched); "
         "move-aside: rename it with its side files to DB.aside-<UTC time> (never deleted) "
         "and bootstrap a fresh replica; new-url: the replica's own primary now answers at "
         "this URL (a proxy, a new host name), or (libsql) a replica made outside synctune "
         "is this primary's.")
