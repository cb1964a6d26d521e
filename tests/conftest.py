"""Suite-wide settings."""

from hypothesis import settings

# property tests check invariants, not speed: a loaded CI machine must not fail them on time
settings.register_profile("synctune", deadline=None, print_blob=True)
settings.load_profile("synctune")
