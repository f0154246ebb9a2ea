"""Seeded random streams: one root seed, one independent stream per phase.

Two kinds of stream, both derived from the root seed and a phase name:

* :meth:`Streams.generator` gives a NumPy ``Generator`` for vectorised draws made once per
  day (for example where new agents appear).
* :meth:`Streams.key` gives a 64-bit key for the counter-based draws used inside kernels:
  ``uniform(day_key(key, day), agent, k)`` is a pure function of its arguments, so an
  agent's k-th draw on a day does not depend on what other agents did. Two scenario variants
  therefore share their random numbers wherever their agents are in the same situation (common
  random numbers), and the result does not depend on the order in which agents are processed.
"""

from __future__ import annotations

import zlib

import numpy as np

from borderflow.engine.jit import njit

_MASK = (1 << 64) - 1


def _phase_id(phase: str) -> int:
    return zlib.crc32(phase.encode("utf-8"))


class Streams:
    """All randomness of one run, derived from ``seed``."""

    def __init__(self, seed: int) -> None:
        if seed < 0:
            raise ValueError("seed must be non-negative")
        self.seed = int(seed)

    def generator(self, phase: str, day: int) -> np.random.Generator:
        """A fresh generator for ``phase`` on ``day``; same arguments, same numbers."""
        seq = np.random.SeedSequence([self.seed, _phase_id(phase), day])
        return np.random.Generator(np.random.PCG64(seq))

    def key(self, phase: str) -> np.uint64:
        """A 64-bit key for :func:`uniform` in ``phase``."""
        seq = np.random.SeedSequence([self.seed, _phase_id(phase)])
        return np.uint64(int(seq.generate_state(1, dtype=np.uint64)[0]) & _MASK)


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
