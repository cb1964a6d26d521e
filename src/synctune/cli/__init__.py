"""Command-line interface: ``synctune --help``."""
