"""Pictures and tables for people: plots of runs and comparisons (matplotlib, offline)."""
