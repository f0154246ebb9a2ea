"""Choosing parameters from observations: grid search now, ABC later."""
