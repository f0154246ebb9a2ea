"""What a run produces: tidy tables, Flee's out.csv, validation metrics, atomic writing."""
