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
class has already passed, ``H_c(t-1) - log(1 - V_i)``: the same law as someone of the class
still at home on that day, so their hazard counts from the day they join.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from borderflow.rules import border_kernels as K

#: The threshold of people not yet at risk: above every cap, so never sorted, never passed.
HELD = np.inf
HELD_EPOCH = -1  # the epoch of people held
PASSED = -2  # the epoch of people whose threshold is kept in the sorted arrays


@dataclass(frozen=True)
class Epoch:
    """Thresholds drawn at once, by the start, a retune or a join.

    People ``first``..``first + n - 1`` with ``key``, above ``offset[class]`` (None: above 0).
    Drawn again over the same people (the same arrays), they are the same bits.
    """

    key: np.uint64
    offset: np.ndarray | None
    first: int
    n: int

    def thresholds(self, klass: np.ndarray) -> np.ndarray:
        idx = np.arange(self.first, self.first + self.n)
        u = K.draws(self.key, K.THRESHOLD_DAY, idx, K.LEAVE_THRESHOLD)
        if self.offset is None:
            return -np.log1p(-u)
        return self.offset[klass[idx]] - np.log1p(-u)


#: The cumulative hazard a day with ``p = 1`` adds: finite, so that people who join later still
#: get thresholds above it, and far beyond any exponential draw (``-log1p(-U)`` < 40), so that
#: everyone of the class still at home decides that day.
CERTAIN = 1.0e6


class Departures:
    """Thresholds of a population and the cumulative hazard of each class.

    Thresholds are kept on the hazard scale, ``E_i = -log(1 - U_i)``, not as uniforms: a class
    whose cumulative hazard passes ~37 has ``G = 1 - exp(-H)`` equal to 1 in floating point, and
    people who join it later (``inflow``) could then never pass it. ``E_i < H_c(t)`` is the same
    event as ``U_i < G_c(t)``.
    """

    def __init__(self, key: np.uint64, klass: np.ndarray, hazard: np.ndarray) -> None:
        self.klass = klass
        self.hazard = np.asarray(hazard, dtype=np.float64)
        self.key = key
        # where each threshold came from (see __getstate__): draws, their epoch (-1: held,
        # PASSED: kept in sorted_e)
        self.epochs: list[Epoch] = [Epoch(key, None, 0, len(klass))]
        self.epoch_of = np.zeros(len(klass), dtype=np.int16)
        self.e = self.epochs[0].thresholds(klass)  # exponential thresholds
        n_classes = len(self.hazard)
        self.cum = np.zeros(n_classes)  # H_c up to the last day decided
        self.cap = 0.0  # people with e < cap are sorted (inf: everyone)
        self.sorted_e = np.zeros(0)
        self.sorted_idx = np.zeros(0, dtype=np.int64)
        self.bounds = np.zeros(n_classes + 1, dtype=np.int64)
        self.ptr = np.zeros(n_classes, dtype=np.int64)

    def __getstate__(self) -> dict:
        """The state without the thresholds, which are drawn again (a stored particle's bulk).

        A stored forecast holds hundreds of states, and a state's thresholds (8 bytes a person,
        random, so incompressible) were most of it. Each threshold is a function of its epoch
        (the key and offsets it was drawn with) and the person's index, except the thresholds of
        people already sorted (kept in ``sorted_e``).
        """
        state = {k: v for k, v in self.__dict__.items() if k != "e"}
        counts = np.bincount(self.epoch_of[self.epoch_of >= 0], minlength=len(self.epochs))
        needed = np.flatnonzero(counts)
        remap = np.full(len(self.epochs) + 2, PASSED, dtype=np.int16)
        remap[needed] = np.arange(len(needed))
        remap[-1] = HELD_EPOCH  # index -1
        state["epochs"] = [self.epochs[j] for j in needed]
        state["epoch_of"] = remap[self.epoch_of]
        return state

    def __deepcopy__(self, memo: dict) -> Departures:
        # a copy in memory keeps its thresholds: drawing them again costs more than copying
        new = Departures.__new__(Departures)
        memo[id(self)] = new
        new.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return new

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        e = np.full(len(self.klass), np.nan)
        e[self.epoch_of == HELD_EPOCH] = HELD
        for j, epoch in enumerate(self.epochs):  # drawn as they first were: the same bits
            idx = np.flatnonzero(self.epoch_of[epoch.first : epoch.first + epoch.n] == j)
            e[epoch.first + idx] = epoch.thresholds(self.klass)[idx]
        e[self.sorted_idx] = self.sorted_e
        if np.isnan(e).any():
            raise ValueError("a stored departure state lacks thresholds")
        self.e = e

    def today(self, factor: float) -> np.ndarray:
        """The people (sorted indices) who decide to leave today, given today's factor."""
        p = np.minimum(self.hazard * max(factor, 0.0), 1.0)
        with np.errstate(divide="ignore"):  # p = 1: everyone left of the class decides
            step = -np.log1p(-p)
        cum = self.cum + np.minimum(step, CERTAIN)
        h_max = float(cum.max(initial=0.0))
        if h_max >= self.cap and h_max > 0.0:
            self._extend(h_max)  # pointers where yesterday's runs stand (self.cum)
        out = np.empty(len(self.sorted_idx), dtype=np.int64)  # only sorted people can pass
        n = K.passed(self.sorted_e, self.sorted_idx, self.bounds, self.ptr, cum, out)
        self.cum = cum
        return np.sort(out[:n])

    def retune(self, key: np.uint64, hazard: np.ndarray) -> None:
        """Go on from today with other hazards and another random stream.

        The people still at home (``E_i`` not yet passed, ``E_i ≥ H_c``) draw a new threshold
        above what their class has passed, ``H_c + E'_i``: by the exponential's lack of memory,
        the same law as the old threshold given that they are still home, so a copy of a state
        retuned with another key has its own future with the right law.
        """
        self.hazard = np.asarray(hazard, dtype=np.float64)
        self.key = key
        epoch = Epoch(key, self.cum.copy(), 0, len(self.klass))
        h = self.cum[self.klass]
        home = (self.e >= h) & (self.e < HELD)  # people held stay held
        self.e = np.where(home, epoch.thresholds(self.klass), self.e)
        # older epochs now hold only people who passed (sorted below): their e is in sorted_e
        self.epoch_of[self.epoch_of >= 0] = PASSED
        self.epoch_of[home] = 0
        self.epochs = [epoch]
        self.cap = 0.0
        self._extend(float(self.cum.max(initial=0.0)))

    def hold(self, idx: np.ndarray) -> None:
        """People ``idx`` are not yet at risk: they never decide until they :meth:`join`."""
        self.e[idx] = HELD
        self.epoch_of[idx] = HELD_EPOCH

    def join(self, first: int, n: int) -> None:
        """People ``first``..``first + n - 1`` join today, before today's decisions."""
        epoch = Epoch(self.key, self.cum.copy(), first, n)
        idx = np.arange(first, first + n)
        self.e[idx] = epoch.thresholds(self.klass)
        self.epoch_of[idx] = len(self.epochs)
        self.epochs.append(epoch)
        if (self.e[idx] < self.cap).any():
            cap, self.cap = self.cap, 0.0
            self._extend(cap / 4.0)  # the same cap again

    def _extend(self, h_max: float) -> None:
        """Sort everyone below a higher cap, keeping the pointers where the runs stand."""
        cap = max(2.0 * self.cap, 4.0 * h_max)
        self.cap = cap if cap < 40.0 else np.inf  # beyond any draw: everyone at risk
        idx = np.flatnonzero(self.e < self.cap)
        order = np.lexsort((idx, self.e[idx], self.klass[idx]))
        self.sorted_idx = idx[order]
        self.sorted_e = self.e[self.sorted_idx]
        counts = np.bincount(self.klass[self.sorted_idx], minlength=len(self.hazard))
        self.bounds[1:] = np.cumsum(counts)
        for c in range(len(self.hazard)):
            lo, hi = self.bounds[c], self.bounds[c + 1]
            self.ptr[c] = lo + np.searchsorted(self.sorted_e[lo:hi], self.cum[c], side="left")
