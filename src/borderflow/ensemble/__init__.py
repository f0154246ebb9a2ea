"""Ensembles: members drawn from uncertain parameters, run on any executor, summarised as bands."""
