"""The built-in scenarios' names, apart from their generators.

``synctune compare --help`` lists them as ``--scenario``'s choices; importing
:mod:`synctune.sim.scenarios` for that would load numpy. ``tests/test_public_api.py``
keeps this tuple equal to the keys of :data:`synctune.sim.scenarios.SCENARIOS`.
"""

#: names of the built-in scenarios, in the order of ``SCENARIOS``
SCENARIO_NAMES = ("web", "serverless", "microservice")
