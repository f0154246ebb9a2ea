"""The counter-based draws that kernels make, and a faster ``Generator.choice``.

``uniform(day_key(key, day), agent, k)`` is a pure function of its arguments (the key comes
from :meth:`borderflow.engine.rng.Streams.key`), so an agent's k-th draw on a day does not
depend on what other agents did. Kept apart from :mod:`borderflow.engine.rng` so that code
which only needs the streams does not import numba.
"""

from __future__ import annotations

import numpy as np

from borderflow.engine.jit import njit


@njit(inline="always")
def _mix(z: np.uint64) -> np.uint64:
    """SplitMix64's finaliser: a bijective avalanche of 64 bits."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(inline="always")
def day_key(key: np.uint64, day: np.int64) -> np.uint64:
    """The key of one day's draws; computed once per kernel call, not once per draw."""
    return _mix(_mix(key ^ (np.uint64(day) * np.uint64(0x9E3779B97F4A7C15))))


@njit(inline="always")
def uniform(dkey: np.uint64, agent: np.int64, k: np.int64) -> float:
    """A uniform draw in [0, 1) that depends only on (day key, agent, k).

    SplitMix64's output function over a two-dimensional Weyl sequence: one mix per draw.
    """
    z = _mix(
        dkey
        + np.uint64(agent) * np.uint64(0xD1B54A32D192ED03)
        + np.uint64(k) * np.uint64(0x8CB92BA72F3D8DD7)
    )
    return float(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


def choice(rng: np.random.Generator, p: np.ndarray, size: int) -> np.ndarray:
    """``rng.choice(len(p), size=size, p=p)``: the same numbers, the same state of ``rng`` after.

    NumPy finds each draw's category by a binary search, slow on unsorted draws; for the few
    categories of a population's shares, counting the cumulative shares at or below the draw is
    several times faster and gives the same index (``searchsorted(cdf, u, side="right")``).
    """
    cdf = np.asarray(p, dtype=np.float64).cumsum()
    cdf /= cdf[-1]
    return _count_at_or_below(cdf, rng.random(size))


@njit(nogil=True)
def _count_at_or_below(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    out = np.empty(len(u), dtype=np.int64)
    for i in range(len(u)):
        c = 0
        for j in range(len(cdf)):
            c += cdf[j] <= u[i]
        out[i] = c
    return out
