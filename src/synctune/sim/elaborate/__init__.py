"""Elaborate: what a run knows before SimPy starts (workload, links, write plan, commit log,
the oracle's plan)."""
