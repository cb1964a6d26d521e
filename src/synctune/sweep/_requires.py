"""Sweeps' third-party packages (the ``sim`` extra), checked before anything loads."""

from synctune._extras import require

require("a sweep", "sim", "numpy", "pandas")
