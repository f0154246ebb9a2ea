"""A particle's figure for a report, for border and Flee models alike."""

from __future__ import annotations

from typing import Any

import numpy as np

from borderflow.calibrate.problem import figure
from borderflow.observe.quantity import quantity_series
from borderflow.rules.border import BorderModel
from borderflow.scenario.border_schema import ObservationRow
from borderflow.scenario.flee_io import CAMP_INDICATOR


def daily(model: Any, o: ObservationRow) -> np.ndarray | None:
    """A particle's daily series of a report's figure (None: the model does not count it).

    A Flee model's camp counts are the people present at the camp (its history, read as is:
    building a Flee run's result for every report would cost more than the day's run).
    """
    if isinstance(model, BorderModel):
        return quantity_series(model.result().series, o.location, o.indicator)
    if o.indicator != CAMP_INDICATOR or o.location not in model.index:
        return None
    return model.history[:, model.index[o.location]]


def simulated(model: Any, o: ObservationRow) -> float:
    """A particle's figure for a report (0 when the run does not count that figure)."""
    series = daily(model, o)
    if series is None:
        return 0.0
    v = figure(series, model.start_date, o)
    return 0.0 if v is None else v
