"""Run: each node's strategy and SimPy process, recording its sync attempts and replica timeline."""
