"""Observations: a store of aggregated counts (never personal data), with HXL import/export."""
