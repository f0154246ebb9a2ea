"""Seeded random streams: one root seed, one independent stream per phase.

Two kinds of stream, both derived from the root seed and a phase name:

* :meth:`Streams.generator` gives a NumPy ``Generator`` for vectorised draws made once per
  day (for example where new agents appear).
* :meth:`Streams.key` gives a 64-bit key for the counter-based draws used inside kernels
  (:mod:`borderflow.engine.rng_kernels`): ``uniform(day_key(key, day), agent, k)`` is a
  pure function of its arguments, so an agent's k-th draw on a day does not depend on what
  other agents did. Two scenario variants therefore share their random numbers wherever their
  agents are in the same situation (common random numbers), and the result does not depend
  on the order in which agents are processed.

numba is not imported here (the draws are in ``rng_kernels``): a Flee run whose kernel was
compiled ahead of time never loads it.
"""

from __future__ import annotations

import zlib

import numpy as np

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
        """A 64-bit key for :func:`~borderflow.engine.rng_kernels.uniform` in ``phase``."""
        seq = np.random.SeedSequence([self.seed, _phase_id(phase)])
        return np.uint64(int(seq.generate_state(1, dtype=np.uint64)[0]) & _MASK)
