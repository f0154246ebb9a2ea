"""Rulesets: ordered phases over the engine's arrays (Flee's default run, border crises)."""
