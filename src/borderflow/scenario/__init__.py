"""Scenario input: readers and validated models of what a run needs."""
