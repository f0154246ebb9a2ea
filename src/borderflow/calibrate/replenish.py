"""One generation of replenishment ABC-SMC (Drovandi & Pettitt 2011; Del Moral et al. 2012).

Why not importance weights: with 9–14 parameters the Beaumont weights (prior over a mixture of
Gaussian kernels) vary by orders of magnitude between accepted points, so with 60 particles
one or two of them take all the weight and the posterior is a point. Here every particle has
the same weight: the tolerance is a quantile of the current distances, the particles above it
are dropped and replaced by copies of the survivors, and each copy then takes Metropolis–
Hastings moves that leave the ABC posterior at that tolerance invariant (a Gaussian random
walk in the transformed space, accepted when its simulation is within the tolerance and a
uniform is below the prior ratio). The honest diagnostics are the distinct particles and the
moves' acceptance rate.

The number of moves adapts to the acceptance rate p (Drovandi & Pettitt): enough that a copy
stays where it started with probability at most ``STAY``, i.e. ceil(log STAY / log(1 - p)),
between ``MIN_MOVES`` and the caller's ``max_moves``. Each sweep of moves is one batch on the
executor; the proposals come from the caller's generator and simulation ``k`` of sweep ``r``
from (seed, generation, 10,000·(r + 1) + k), so results do not depend on the executor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from borderflow.calibrate.abc import Simulate, Space

STAY = 0.01
MIN_MOVES = 2


@dataclass(frozen=True)
class Replenished:
    z: np.ndarray  # (n, d) particles in the transformed space, equal weights
    dist: np.ndarray  # (n,) their distances, all within eps
    eps: float
    acceptance: float  # of the Metropolis–Hastings moves
    moves: int  # sweeps of moves made


def _moves_needed(accepted: int, tried: int, max_moves: int) -> int:
    """Sweeps after which a copy has moved at least once with probability 1 - STAY."""
    p = accepted / tried if tried else 0.0
    if p <= 0.0:
        return max_moves
    if p >= 1.0:
        return MIN_MOVES
    return min(max_moves, max(MIN_MOVES, math.ceil(math.log(STAY) / math.log1p(-p))))


def replenish(
    space: Space,
    simulate: Simulate,
    rng: np.random.Generator,
    g: int,
    z: np.ndarray,
    dist: np.ndarray,
    alpha: float,
    max_moves: int,
) -> Replenished:
    """Generation ``g``: drop particles beyond the ``alpha``-quantile, replace, move copies."""
    d = z.shape[1]
    eps = float(np.quantile(dist, alpha))
    alive = np.flatnonzero(dist <= eps)
    dead = np.flatnonzero(dist > eps)
    z, dist = z.copy(), dist.copy()
    if len(dead) == 0:
        return Replenished(z, dist, eps, math.nan, 0)
    copies = alive[rng.integers(len(alive), size=len(dead))]
    z[dead], dist[dead] = z[copies], dist[copies]
    cov = np.atleast_2d(np.cov(z[alive], rowvar=False)) if len(alive) > 1 else np.eye(d)
    chol = np.linalg.cholesky((2.38**2 / d) * cov + 1e-12 * np.eye(d))
    log_p = np.array([space.log_prior(z[i]) for i in dead])
    accepted = tried = sweeps = 0
    while sweeps < _moves_needed(accepted, tried, max_moves):
        props = z[dead] + rng.standard_normal((len(dead), d)) @ chol.T
        log_u = np.log(rng.uniform(size=len(dead)))
        prop_p = np.array([space.log_prior(p) for p in props])
        # early rejection: a move the prior ratio refuses needs no simulation
        go = np.flatnonzero(log_u < prop_p - log_p)
        new_d = np.full(len(dead), np.inf)
        if len(go):
            new_d[go] = simulate(g, 10_000 * (sweeps + 1), space.to_x(props[go]))
        ok = new_d <= eps
        z[dead[ok]], dist[dead[ok]], log_p[ok] = props[ok], new_d[ok], prop_p[ok]
        accepted += int(ok.sum())
        tried += len(dead)
        sweeps += 1
    return Replenished(z, dist, eps, accepted / tried, sweeps)
