"""Suite-wide settings."""

import os

from hypothesis import settings

# property tests check invariants, not speed: a loaded CI machine must not fail them on time
settings.register_profile("synctune", deadline=None, print_blob=True)
# SYNCTUNE_HYPOTHESIS=deep: twenty times the examples, to hunt rare cases before they surface
settings.register_profile("deep", parent=settings.get_profile("synctune"), max_examples=2000)
settings.load_profile(os.environ.get("SYNCTUNE_HYPOTHESIS", "synctune"))
