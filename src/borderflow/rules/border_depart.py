"""Who decides to leave home today, touching only the people who do.

The rule is a daily hazard: a person of class ``c`` (nationality × papers × family) still at
home leaves on day ``t`` with probability ``p_c(t) = min(hazard[c] · factor(t), 1)``. Drawing
one uniform per person per day costs a scan of the whole population every day, although only
a few in a hundred ever leave. The same distribution comes from one draw per person:

* person ``i`` gets a uniform ``U_i`` (the draw ``LEAVE_THRESHOLD`` of
  :class:`~borderflow.rules.border_kernels.Draw`: ``depart`` stream, a fixed day), that is an
  exponential threshold ``E_i = -log(1 - U_i)``;
* class ``c`` accumulates its hazard ``H_c(t) = Σ_{d≤t} -log(1 - p_c(d))`` (infinite once
  ``p_c`` reaches 1), and person ``i`` decides on the first day with ``E_i < H_c(t)``,
  that is with ``U_i < G_c(t) = 1 - exp(-H_c(t))``.

Given that ``i`` was still home after day ``t-1`` (``E_i ≥ H_c(t-1)``), the exponential's lack of
memory gives ``P(E_i < H_c(t)) = 1 - exp(-(H_c(t) - H_c(t-1))) = p_c(t)``: exactly the daily
Bernoulli rule, whatever the factors. Common random numbers hold: a person keeps the same
threshold in every variant, so two variants with the same factors so far have the same people
at home, and a higher hazard makes a person leave earlier, never later.

People are kept sorted by ``U`` within their class, so the day's deciders are the run
``[G_c(t-1), G_c(t))`` of each class, found by advancing a pointer. Only people below a cap
(grown as the classes' ``G`` approach it) are sorted at all.

People who join the population at risk later (an ``inflow`` event: pre-allocated, activated on
their day) are *held* until then (no threshold) and *join* with a threshold above what their
class has already passed, ``G_c(t-1) + (1 - G_c(t-1)) V_i``: the same law as someone of the
class still at home on that day, so their hazard counts from the day they join.
"""

from __future__ import annotations

import numpy as np

from borderflow.rules import border_kernels as K

#: The threshold of people not yet at risk: above every cap, so never sorted, never passed.
HELD = np.inf


class Departures:
    """Thresholds of a population and the cumulative hazard of each class."""

    def __init__(self, key: np.uint64, klass: np.ndarray, hazard: np.ndarray) -> None:
        self.klass = klass
        self.hazard = np.asarray(hazard, dtype=np.float64)
        self.u = K.draws(key, K.THRESHOLD_DAY, np.arange(len(klass)), K.LEAVE_THRESHOLD)
        n_classes = len(self.hazard)
        self.cum = np.zeros(n_classes)  # H_c up to the last day decided
        self.passed = np.zeros(n_classes)  # G_c = 1 - exp(-H_c)
        self.cap = 0.0  # people with u < cap are sorted (2.0: everyone)
        self.sorted_u = np.zeros(0)
        self.sorted_idx = np.zeros(0, dtype=np.int64)
        self.bounds = np.zeros(n_classes + 1, dtype=np.int64)
        self.ptr = np.zeros(n_classes, dtype=np.int64)
        self._out = np.empty(len(klass), dtype=np.int64)

    def today(self, factor: float) -> np.ndarray:
        """The people (sorted indices) who decide to leave today, given today's factor."""
        p = np.minimum(self.hazard * max(factor, 0.0), 1.0)
        with np.errstate(divide="ignore"):  # p = 1: everyone left of the class decides
            self.cum = self.cum - np.log1p(-p)
        # G is kept non-decreasing, so the days' runs of U never overlap.
        g = np.maximum(self.passed, -np.expm1(-self.cum))
        g_max = float(g.max())
        if g_max >= self.cap and g_max > 0.0:
            self._extend(g_max)
        n = K.passed(self.sorted_u, self.sorted_idx, self.bounds, self.ptr, g, self._out)
        self.passed = g
        return np.sort(self._out[:n])

    def retune(self, key: np.uint64, hazard: np.ndarray) -> None:
        """Go on from today with other hazards and another random stream.

        The people still at home (``U_i`` not yet passed, ``U_i ≥ G_c``) draw a new threshold
        above what their class has passed, ``G_c + (1 - G_c) V_i``: by the exponential's lack
        of memory, the same law as the old threshold given that they are still home, so a
        copy of a state retuned with another key has its own future with the right law.
        """
        self.hazard = np.asarray(hazard, dtype=np.float64)
        v = K.draws(key, K.THRESHOLD_DAY, np.arange(len(self.klass)), K.LEAVE_THRESHOLD)
        g = self.passed[self.klass]
        home = (self.u >= g) & (self.u < HELD)  # people held stay held
        self.u = np.where(home, g + (1.0 - g) * v, self.u)
        self.cap = 0.0
        self._extend(float(self.passed.max(initial=0.0)))

    def hold(self, idx: np.ndarray) -> None:
        """People ``idx`` are not yet at risk: they never decide until they :meth:`join`."""
        self.u[idx] = HELD

    def join(self, idx: np.ndarray, v: np.ndarray) -> None:
        """People ``idx`` join today, before today's decisions, with their uniforms ``v``."""
        g = self.passed[self.klass[idx]]
        self.u[idx] = g + (1.0 - g) * v
        if (self.u[idx] < self.cap).any():
            cap, self.cap = self.cap, 0.0
            self._extend(cap / 4.0)  # the same cap again (at most 2.0: everyone)

    def _extend(self, g_max: float) -> None:
        """Sort everyone below a higher cap, keeping the pointers where the runs stand."""
        cap = max(2.0 * self.cap, 4.0 * g_max)
        self.cap = cap if cap < 1.0 else 2.0
        idx = np.flatnonzero(self.u < self.cap)
        order = np.lexsort((idx, self.u[idx], self.klass[idx]))
        self.sorted_idx = idx[order]
        self.sorted_u = self.u[self.sorted_idx]
        counts = np.bincount(self.klass[self.sorted_idx], minlength=len(self.hazard))
        self.bounds[1:] = np.cumsum(counts)
        for c in range(len(self.hazard)):
            lo, hi = self.bounds[c], self.bounds[c + 1]
            self.ptr[c] = lo + np.searchsorted(self.sorted_u[lo:hi], self.passed[c], side="left")
