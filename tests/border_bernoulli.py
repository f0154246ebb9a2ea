"""The departure rule before thresholds, as a reference: a daily Bernoulli draw per person.

Each person at home draws a uniform every day (slot 0 of the ``depart`` stream, as the rule
did) and leaves when it is below ``hazard[class] × factor``. Plugged into a
:class:`~borderflow.rules.border.BorderModel` in place of its
:class:`~borderflow.rules.border_depart.Departures`, it reproduces the numbers of the code that
scanned everyone every day, so tests can check that only the departure draws changed.
"""

from __future__ import annotations

import numpy as np

from borderflow.rules import border_kernels as K
from borderflow.rules.border import BorderModel

LEAVE_SLOT = 0  # the slot of the daily draw


class DailyBernoulli:
    """Decides departures for ``model`` by today's draw of everyone at home."""

    def __init__(self, model: BorderModel) -> None:
        self.model = model
        self.day = 0

    def today(self, factor: float) -> np.ndarray:
        m = self.model
        home = np.flatnonzero(m.agents.state == K.HOME)
        u = K.draws(m.keys["depart"], self.day, home, LEAVE_SLOT)
        self.day += 1
        return home[u < m.hazard[m.agents.klass[home]] * factor]


def bernoulli_model(*args, **kwargs) -> BorderModel:
    """A model whose departures follow the daily Bernoulli rule."""
    model = BorderModel(*args, **kwargs)
    model.departures = DailyBernoulli(model)
    return model
