"""Approximate Bayesian computation by sequential Monte Carlo (ABC-SMC) for border cases.

The uncertain parameters' distributions (``uncertain.toml``) are the priors. Generation 0
draws particles from the priors; each later generation perturbs particles of the previous one
with a Gaussian kernel (twice the weighted covariance), keeps those whose simulation lies
closer to the observations than the generation's tolerance (the median distance of the
previous generation), and weighs them by prior / proposal density (Beaumont et al. 2009).

The distance is the range-aware loss of :mod:`borderflow.calibrate.grid`: an observation's
simulated value inside its reported range costs nothing, outside it costs its relative
distance squared; days without observations cost nothing (missing data need no filling).
Simulations run in a process pool; particle ``k`` of generation ``g`` uses random numbers
derived from (seed, g, k), so a calibration is reproducible.
"""

from __future__ import annotations

import concurrent.futures as cf
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from borderflow.calibrate.grid import observation_loss
from borderflow.ensemble.params import Distribution, Fixed
from borderflow.errors import ScenarioError
from borderflow.scenario.border_io import BorderCase, override


@dataclass
class Posterior:
    names: list[str]
    particles: np.ndarray  # (n, d)
    weights: np.ndarray  # (n,), sum 1
    tolerances: list[float]
    simulations: int
    files: list[Path] = field(default_factory=list)

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


_CTX: dict = {}


def _init(case: BorderCase, indicators: list[str], seed: int, until) -> None:
    _CTX.update(case=case, indicators=indicators, seed=seed, until=until)


def _distance(task: tuple[int, int, dict[str, float]]) -> float:
    from borderflow.rules.border import BorderModel

    generation, k, values = task
    case = override(_CTX["case"], values)
    sim_seed = int(np.random.SeedSequence([_CTX["seed"], generation, k]).generate_state(1)[0])
    model = BorderModel(case, sim_seed, until=_CTX["until"]).run()
    loss, _, total = observation_loss(model, case, _CTX["indicators"])
    return math.sqrt(loss / max(total, 1))


def abc_smc(
    case: BorderCase,
    priors: dict[str, Distribution],
    *,
    particles: int = 100,
    generations: int = 4,
    indicators: tuple[str, ...] = ("stranded",),
    seed: int = 0,
    workers: int | None = None,
    max_attempts: int = 20,
    on_generation: Callable[[int, float, int], None] | None = None,
) -> Posterior:
    """Run ABC-SMC; returns the last generation's weighted particles."""
    names = [n for n, d in priors.items() if not isinstance(d, Fixed)]
    fixed = {n: d.value for n, d in priors.items() if isinstance(d, Fixed)}
    if not names:
        raise ScenarioError("nothing to calibrate: every parameter is fixed")
    dated = [o.end or o.date for o in case.observations if o.indicator in indicators]
    if not dated:
        raise ScenarioError(
            f"no observations with indicator(s) {', '.join(indicators)}",
            file=case.path / case.spec.files.observations,
        )
    until = min(max(dated), case.spec.case.end)
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 999])))
    dists = [priors[n] for n in names]

    def log_prior(x: np.ndarray) -> float:
        return float(sum(d.logpdf(float(v)) for d, v in zip(dists, x, strict=True)))

    simulations = 0
    tolerances: list[float] = []
    with cf.ProcessPoolExecutor(
        max_workers=workers or os.cpu_count() or 1,
        initializer=_init,
        initargs=(case, list(indicators), seed, until),
    ) as pool:

        def simulate(generation: int, start: int, xs: np.ndarray) -> np.ndarray:
            nonlocal simulations
            tasks = [
                (generation, start + k, dict(zip(names, map(float, x), strict=True)) | fixed)
                for k, x in enumerate(xs)
            ]
            simulations += len(tasks)
            return np.array(list(pool.map(_distance, tasks, chunksize=4)))

        x = np.array([[d.sample(rng) for d in dists] for _ in range(particles)])
        dist = simulate(0, 0, x)
        w = np.full(particles, 1.0 / particles)
        tolerances.append(float(np.max(dist)))
        if on_generation is not None:
            on_generation(0, tolerances[-1], simulations)
        for g in range(1, generations):
            eps = float(np.quantile(dist, 0.5))
            cov = 2.0 * np.atleast_2d(np.cov(x, rowvar=False, aweights=w))
            cov += 1e-12 * np.eye(len(names))
            chol = np.linalg.cholesky(cov)
            inv = np.linalg.inv(cov)
            new_x, new_d = [], []
            attempts = 0
            while len(new_x) < particles and attempts < max_attempts:
                need = particles - len(new_x)
                batch = max(need * 2, 8)
                parents = rng.choice(particles, size=batch, p=w)
                props = x[parents] + rng.standard_normal((batch, len(names))) @ chol.T
                ok = np.array([math.isfinite(log_prior(p)) for p in props])
                props = props[ok]
                if len(props):
                    d = simulate(g, attempts * 10_000, props)
                    keep = d <= eps
                    new_x.extend(props[keep][:need])
                    new_d.extend(d[keep][:need])
                attempts += 1
            if len(new_x) < particles:
                break  # the tolerance cannot be met any more: keep the last full generation
            new_x = np.array(new_x)
            # weights: prior / mixture of perturbation kernels around the previous particles
            diffs = new_x[:, None, :] - x[None, :, :]
            kernel = np.exp(-0.5 * np.einsum("ijk,kl,ijl->ij", diffs, inv, diffs))
            denom = kernel @ w
            new_w = np.array([math.exp(log_prior(p)) for p in new_x]) / np.maximum(denom, 1e-300)
            x, dist, w = new_x, np.array(new_d), new_w / new_w.sum()
            tolerances.append(eps)
            if on_generation is not None:
                on_generation(g, eps, simulations)
    return Posterior(names, x, w, tolerances, simulations)


def write_posterior(post: Posterior, out_dir: Path) -> list[Path]:
    """posterior.csv (particles and weights, HXL) and posterior-summary.csv."""
    import csv

    from borderflow.results.atomic import atomic_outputs

    def particles(path: Path) -> None:
        with path.open("w", newline="", encoding="utf-8") as handle:
            w = csv.writer(handle, lineterminator="\n")
            w.writerow([*post.names, "weight"])
            w.writerow([*(f"#meta+param+{n}" for n in post.names), "#meta+weight"])
            for row, weight in zip(post.particles, post.weights, strict=True):
                w.writerow([*(repr(float(v)) for v in row), repr(float(weight))])

    def summary(path: Path) -> None:
        q = post.quantiles([0.05, 0.5, 0.95])
        with path.open("w", newline="", encoding="utf-8") as handle:
            w = csv.writer(handle, lineterminator="\n")
            w.writerow(["parameter", "q05", "median", "q95"])
            w.writerow(["#meta+param", "#value+q05", "#value+median", "#value+q95"])
            for j, name in enumerate(post.names):
                w.writerow([name, *(f"{q[i, j]:.6g}" for i in range(3))])

    with atomic_outputs(out_dir) as out:
        out.write("posterior.csv", particles)
        out.write("posterior-summary.csv", summary)
    return [out_dir / "posterior.csv", out_dir / "posterior-summary.csv"]
