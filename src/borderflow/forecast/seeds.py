"""The random streams of the filter's moves: every number from (seed, particle, generation)."""

from __future__ import annotations

import numpy as np


def move_seed(seed: int, index: int, generation: int) -> np.random.SeedSequence:
    """The seed of particle ``index``'s move at ``generation``."""
    return np.random.SeedSequence([seed, index, generation, 2])


def stream_seed(seed: int, index: int, generation: int) -> int:
    """The simulation seed particle ``index`` takes at ``generation`` (a move or a forecast)."""
    return int(np.random.SeedSequence([seed, index, generation, 3]).generate_state(1)[0])
