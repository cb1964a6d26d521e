"""Reduce: pure functions from a node's records and the commit log to the summary and detail
tables."""
