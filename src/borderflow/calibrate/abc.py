"""Approximate Bayesian computation by sequential Monte Carlo (ABC-SMC).

The uncertain parameters' distributions (``uncertain.toml``) are the priors. Generation 0
draws particles from the priors; each later generation perturbs particles of the previous one
with a Gaussian kernel (twice the weighted covariance), keeps those whose simulation lies
closer to the observations than the generation's tolerance (the median distance of the
previous generation), and weighs them by prior / proposal density (Beaumont et al. 2009).

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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from borderflow.calibrate.problem import Problem
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
) -> Posterior:
    """Run ABC-SMC; returns the last generation's weighted particles.

    Simulations run on ``executor`` (default: a process pool of ``workers``).
    """
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
    dists = [priors[n] for n in names]

    # Particles move in a space where a Gaussian kernel cannot leave the prior's support: log
    # for lognormal parameters (positive, spread over factors), logit of the position between
    # the bounds for bounded ones (uniform, truncated normal), as is for the others. Without
    # this, most proposals of a few narrow uniform priors fall outside, and generations stall.
    logs = np.array([isinstance(d, LogNormal) for d in dists])
    bounded = np.array([isinstance(d, Bounded) for d in dists])
    low = np.array([d.low if isinstance(d, Bounded) else 0.0 for d in dists])
    span = np.array([d.high - d.low if isinstance(d, Bounded) else 1.0 for d in dists])

    def to_x(z: np.ndarray) -> np.ndarray:
        x = np.array(z, dtype=float)
        x[..., logs] = np.exp(x[..., logs])
        x[..., bounded] = low[bounded] + span[bounded] * _expit(x[..., bounded])
        return x

    def to_z(x: np.ndarray) -> np.ndarray:
        z = np.array(x, dtype=float)
        z[..., logs] = np.log(z[..., logs])
        u = np.clip((z[..., bounded] - low[bounded]) / span[bounded], 1e-12, 1 - 1e-12)
        z[..., bounded] = np.log(u) - np.log1p(-u)
        return z

    def log_prior(z: np.ndarray) -> float:
        """Prior log density in the transformed space (with the transforms' Jacobians)."""
        x = to_x(z)
        lp = sum(d.logpdf(float(v)) for d, v in zip(dists, x, strict=True))
        s = _expit(z[bounded])
        jac = z[logs].sum() + np.sum(np.log(span[bounded]) + np.log(s) + np.log1p(-s))
        return float(lp + jac)

    simulations = 0
    tolerances: list[float] = []
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

        z = to_z(np.array([[d.sample(rng) for d in dists] for _ in range(particles)]))
        dist = simulate(0, 0, to_x(z))
        w = np.full(particles, 1.0 / particles)
        tolerances.append(float(np.max(dist)))
        if on_generation is not None:
            on_generation(0, tolerances[-1], simulations)
        for g in range(1, generations):
            eps = float(np.quantile(dist, 0.5))
            cov = 2.0 * np.atleast_2d(np.cov(z, rowvar=False, aweights=w))
            cov += 1e-12 * np.eye(len(names))
            chol = np.linalg.cholesky(cov)
            inv = np.linalg.inv(cov)
            new_z, new_d = [], []
            attempts = 0
            while len(new_z) < particles and attempts < max_attempts:
                need = particles - len(new_z)
                batch = max(need * 2, 8)
                parents = rng.choice(particles, size=batch, p=w)
                props = z[parents] + rng.standard_normal((batch, len(names))) @ chol.T
                # every proposal is inside the prior's support (see the transforms above)
                d = simulate(g, attempts * 10_000, to_x(props))
                keep = d <= eps
                new_z.extend(props[keep][:need])
                new_d.extend(d[keep][:need])
                attempts += 1
            if len(new_z) < particles:
                break  # the tolerance cannot be met any more: keep the last full generation
            new_z = np.array(new_z)
            # weights: prior / mixture of perturbation kernels around the previous particles
            diffs = new_z[:, None, :] - z[None, :, :]
            kernel = np.exp(-0.5 * np.einsum("ijk,kl,ijl->ij", diffs, inv, diffs))
            log_w = np.array([log_prior(p) for p in new_z]) - np.log(np.maximum(kernel @ w, 1e-300))
            new_w = np.exp(log_w - log_w.max())
            z, dist, w = new_z, np.array(new_d), new_w / new_w.sum()
            tolerances.append(eps)
            if on_generation is not None:
                on_generation(g, eps, simulations)
    x = to_x(z)
    return Posterior(names, x, w, tolerances, simulations)


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
