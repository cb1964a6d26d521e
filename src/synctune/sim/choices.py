"""The simulator's named choices, apart from the code behind them.

``synctune compare --help`` lists them as ``--scenario`` and ``--write-model`` choices;
importing :mod:`synctune.sim.elaborate.scenarios` or :mod:`synctune.sim.config` for that would load
numpy or build the config class. ``tests/test_public_api.py`` keeps :data:`SCENARIO_NAMES`
equal to the keys of :data:`synctune.sim.elaborate.scenarios.SCENARIOS`.
"""

#: names of the built-in scenarios, in the order of ``SCENARIOS``
SCENARIO_NAMES = ("web", "serverless", "microservice")

#: ``delegated``: writes go to the primary (libSQL embedded replicas); ``local-first``: writes
#: commit locally and are pushed at the next sync (offline writes)
WRITE_MODELS = ("delegated", "local-first")
