"""``python -m synctune`` runs the CLI."""

from synctune.cli.main import entry

entry()
