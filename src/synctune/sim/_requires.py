"""The simulator's third-party packages (the ``sim`` extra), checked before anything loads."""

from synctune._extras import require

require("the simulator", "sim", "numpy", "pandas", "simpy", "pyarrow")
