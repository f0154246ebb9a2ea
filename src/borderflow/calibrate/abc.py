"""Approximate Bayesian computation by sequential Monte Carlo (ABC-SMC).

The uncertain parameters' distributions (``uncertain.toml``) are the priors. Generation 0
draws particles from the priors. Two ways on from there:

* ``beaumont`` (Beaumont et al. 2009): each later generation perturbs particles of the
  previous one with a Gaussian kernel (twice the weighted covariance), keeps those whose
  simulation lies closer to the observations than the generation's tolerance (the median
  distance of the previous generation), and weighs them by prior / proposal density. In 9–14
  dimensions those weights degenerate onto a few particles;
* ``replenish`` (Drovandi & Pettitt 2011, :mod:`borderflow.calibrate.replenish`): equal
  weights; the particles beyond the median distance are replaced by copies of the others,
  which then take Metropolis–Hastings moves within the new tolerance.

The distance is the problem's own (:mod:`borderflow.calibrate.problem`): for a border case, an
observation's simulated value inside its reported range costs nothing, outside it costs its
relative distance squared, and days without observations cost nothing (missing data need no
filling); for a Flee scenario, Flee's averaged relative difference on the camp series.
Simulations run on an executor (a process pool by default, or a Dask cluster); particle ``k``
of generation ``g`` uses random numbers derived from (seed, g, k), so a calibration is
reproducible on any executor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from borderflow.calibrate.problem import Problem
from borderflow.calibrate.replenish import replenish
from borderflow.ensemble.params import Bounded, Distribution, Fixed, LogNormal
from borderflow.errors import ScenarioError
from borderflow.execute import Executor, Job, pool_executor


@dataclass
class Posterior:
    names: list[str]
    particles: np.ndarray  # (n, d)
    weights: np.ndarray  # (n,), sum 1
    tolerances: list[float]
    simulations: int
    acceptance: list[float] = field(default_factory=list)  # replenish: each generation's moves

    def merged_weights(self) -> np.ndarray:
        """The weight of each distinct particle (copies summed), sum 1.

        Beaumont's weights degenerate onto a few particles; replenishment's equal weights
        can degenerate onto many copies of a few. Merged weights see both.
        """
        _, inverse = np.unique(self.particles, axis=0, return_inverse=True)
        merged = np.bincount(inverse.ravel(), weights=self.weights)
        return merged / merged.sum()

    def effective_size(self) -> float:
        """1 / sum of the squared merged weights: how many particles the posterior is worth."""
        merged = self.merged_weights()
        return float(1.0 / np.sum(merged * merged))

    def describe(self) -> str:
        """Runs, effective size and (replenishment) distinct particles and acceptance."""
        note = f"{self.simulations} runs, effective size {self.effective_size():.1f} of "
        note += str(len(self.weights))
        if self.acceptance:
            rates = "/".join("–" if np.isnan(a) else f"{a:.0%}" for a in self.acceptance)
            note += f" ({self.distinct()} distinct), moves accepted {rates}"
        return note

    def top_weight(self) -> float:
        """The largest merged weight."""
        return float(self.merged_weights().max())

    def distinct(self) -> int:
        """How many different particles there are."""
        return len(np.unique(self.particles, axis=0))

    def quantiles(self, q: float | list[float]) -> np.ndarray:
        """Weighted quantiles of each parameter, shape (len(q), d)."""
        qs = np.atleast_1d(q)
        out = np.empty((len(qs), len(self.names)))
        for j in range(len(self.names)):
            order = np.argsort(self.particles[:, j])
            cum = np.cumsum(self.weights[order])
            cum /= cum[-1]
            out[:, j] = np.interp(qs, cum, self.particles[order, j])
        return out


@dataclass(frozen=True)
class ParticleContext:
    """What a worker holds for a calibration: the problem, the root seed, the last day run."""

    problem: Problem
    seed: int
    until: int


def _distance(
    ctx: ParticleContext, task: tuple[int, int, int, dict[str, float]]
) -> tuple[int, float]:
    """The distance of one particle; its random numbers come from (seed, generation, k)."""
    index, generation, k, values = task
    sim_seed = int(np.random.SeedSequence([ctx.seed, generation, k]).generate_state(1)[0])
    return index, ctx.problem.distance(ctx.problem.simulate(values, sim_seed, ctx.until))


PARTICLE_JOB = Job(ParticleContext, _distance)


def _expit(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=float)))


class Space:
    """Where particles move: a space in which a Gaussian kernel cannot leave the priors' support.

    Log for lognormal parameters (positive, spread over factors), logit of the position between
    the bounds for bounded ones (uniform, truncated normal), as is for the others. Without
    this, most proposals of a few narrow uniform priors fall outside, and generations stall.
    """

    def __init__(self, dists: list[Distribution]) -> None:
        self.dists = dists
        self.logs = np.array([isinstance(d, LogNormal) for d in dists])
        self.bounded = np.array([isinstance(d, Bounded) for d in dists])
        self.low = np.array([d.low if isinstance(d, Bounded) else 0.0 for d in dists])
        self.span = np.array([d.high - d.low if isinstance(d, Bounded) else 1.0 for d in dists])

    def to_x(self, z: np.ndarray) -> np.ndarray:
        """Parameter values of points of the space."""
        b = self.bounded
        x = np.array(z, dtype=float)
        x[..., self.logs] = np.exp(x[..., self.logs])
        x[..., b] = self.low[b] + self.span[b] * _expit(x[..., b])
        return x

    def to_z(self, x: np.ndarray) -> np.ndarray:
        """Points of the space of parameter values."""
        b = self.bounded
        z = np.array(x, dtype=float)
        z[..., self.logs] = np.log(z[..., self.logs])
        u = np.clip((z[..., b] - self.low[b]) / self.span[b], 1e-12, 1 - 1e-12)
        z[..., b] = np.log(u) - np.log1p(-u)
        return z

    def log_prior(self, z: np.ndarray) -> float:
        """Prior log density in the transformed space (with the transforms' Jacobians)."""
        x = self.to_x(z)
        lp = sum(d.logpdf(float(v)) for d, v in zip(self.dists, x, strict=True))
        b = self.bounded
        zb = z[b]
        # log s + log(1 - s) for s = expit(z), written so that a far-out z stays finite
        # (expit rounds to 1 past z ≈ 37, and log1p(-1) warned and gave -inf)
        log_s_1ms = -(np.logaddexp(0.0, -zb) + np.logaddexp(0.0, zb))
        jac = z[self.logs].sum() + np.sum(np.log(self.span[b]) + log_s_1ms)
        return float(lp + jac)


#: simulate(generation, first particle number, parameter values) -> distances
Simulate = Callable[[int, int, np.ndarray], np.ndarray]
Method = Literal["beaumont", "replenish"]
METHODS: tuple[Method, ...] = ("beaumont", "replenish")


def next_generation(
    space: Space,
    simulate: Simulate,
    rng: np.random.Generator,
    g: int,
    z: np.ndarray,
    w: np.ndarray,
    eps: float,
    max_attempts: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Generation ``g``: particles within ``eps`` and their weights; None when it cannot fill.

    Proposals perturb resampled particles with a Gaussian kernel (twice the weighted
    covariance); weights are prior / mixture of the kernels around the previous particles.
    """
    n, d = z.shape
    cov = 2.0 * np.atleast_2d(np.cov(z, rowvar=False, aweights=w)) + 1e-12 * np.eye(d)
    chol = np.linalg.cholesky(cov)
    inv = np.linalg.inv(cov)
    new_z, new_d = [], []
    attempts = 0
    while len(new_z) < n and attempts < max_attempts:
        need = n - len(new_z)
        batch = max(need * 2, 8)
        parents = rng.choice(n, size=batch, p=w)
        props = z[parents] + rng.standard_normal((batch, d)) @ chol.T
        # every proposal is inside the prior's support (see Space)
        dist = simulate(g, attempts * 10_000, space.to_x(props))
        keep = dist <= eps
        new_z.extend(props[keep][:need])
        new_d.extend(dist[keep][:need])
        attempts += 1
    if len(new_z) < n:
        return None
    new_z = np.array(new_z)
    diffs = new_z[:, None, :] - z[None, :, :]
    kernel = np.exp(-0.5 * np.einsum("ijk,kl,ijl->ij", diffs, inv, diffs))
    log_w = np.array([space.log_prior(p) for p in new_z]) - np.log(np.maximum(kernel @ w, 1e-300))
    new_w = np.exp(log_w - log_w.max())
    return new_z, np.array(new_d), new_w / new_w.sum()


def abc_smc(
    problem: Problem,
    priors: dict[str, Distribution],
    *,
    particles: int = 100,
    generations: int = 4,
    seed: int = 0,
    workers: int | None = None,
    executor: Executor | None = None,
    max_attempts: int = 20,
    on_generation: Callable[[int, float, int], None] | None = None,
    method: Method = "beaumont",
    max_moves: int = 10,
) -> Posterior:
    """Run ABC-SMC; returns the last generation's weighted particles.

    Simulations run on ``executor`` (default: a process pool of ``workers``). ``beaumont``:
    a generation that cannot fill within ``max_attempts`` batches ends the run with the last
    full one. ``replenish``: each generation's copies take up to ``max_moves`` sweeps of moves.
    """
    if method not in METHODS:
        raise ScenarioError(f"unknown ABC method '{method}' (one of {', '.join(METHODS)})")
    names = [n for n, d in priors.items() if not isinstance(d, Fixed)]
    fixed = {n: d.value for n, d in priors.items() if isinstance(d, Fixed)}
    if not names:
        raise ScenarioError("nothing to calibrate: every parameter is fixed")
    if not problem.covered():
        raise ScenarioError(
            "no observations inside the simulated period to fit to",
            file=problem.path,
        )
    until = problem.until()
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 999])))
    space = Space([priors[n] for n in names])
    simulations = 0
    tolerances: list[float] = []
    acceptance: list[float] = []
    executor = executor or pool_executor(workers)
    with executor.session(PARTICLE_JOB, (problem, seed, until)) as submit:

        def simulate(generation: int, start: int, xs: np.ndarray) -> np.ndarray:
            nonlocal simulations
            tasks = [
                (k, generation, start + k, dict(zip(names, map(float, x), strict=True)) | fixed)
                for k, x in enumerate(xs)
            ]
            simulations += len(tasks)
            out = np.empty(len(tasks))

            def done(k: int, d: float) -> None:
                out[k] = d

            submit(tasks, done)
            return out

        z = space.to_z(np.array([[d.sample(rng) for d in space.dists] for _ in range(particles)]))
        dist = simulate(0, 0, space.to_x(z))
        w = np.full(particles, 1.0 / particles)
        tolerances.append(float(np.max(dist)))
        if on_generation is not None:
            on_generation(0, tolerances[-1], simulations)
        for g in range(1, generations):
            if method == "replenish":
                moved = replenish(space, simulate, rng, g, z, dist, 0.5, max_moves)
                z, dist = moved.z, moved.dist
                tolerances.append(moved.eps)
                acceptance.append(moved.acceptance)
                if on_generation is not None:
                    on_generation(g, moved.eps, simulations)
                continue
            eps = float(np.quantile(dist, 0.5))
            step = next_generation(space, simulate, rng, g, z, w, eps, max_attempts)
            if step is None:
                break  # the tolerance cannot be met any more: keep the last full generation
            z, dist, w = step
            tolerances.append(eps)
            if on_generation is not None:
                on_generation(g, eps, simulations)
    return Posterior(names, space.to_x(z), w, tolerances, simulations, acceptance)


def write_posterior(post: Posterior, out_dir: Path) -> list[Path]:
    """posterior.csv (particles and weights, HXL) and posterior-summary.csv."""
    from borderflow.results.atomic import atomic_outputs
    from borderflow.results.hxl import write_csv

    def particles(path: Path) -> None:
        tags = {**{n: f"#meta+param+{n}" for n in post.names}, "weight": "#meta+weight"}
        rows = (
            [*(repr(float(v)) for v in row), repr(float(weight))]
            for row, weight in zip(post.particles, post.weights, strict=True)
        )
        write_csv(path, tags, rows)

    def summary(path: Path) -> None:
        q = post.quantiles([0.05, 0.5, 0.95])
        tags = {"parameter": "#meta+param", "q05": "#value+q05", "median": "#value+median",
                "q95": "#value+q95"}  # fmt: skip
        rows = ([name, *(f"{q[i, j]:.6g}" for i in range(3))] for j, name in enumerate(post.names))
        write_csv(path, tags, rows)

    with atomic_outputs(out_dir) as out:
        out.write("posterior.csv", particles)
        out.write("posterior-summary.csv", summary)
    return [out_dir / "posterior.csv", out_dir / "posterior-summary.csv"]
