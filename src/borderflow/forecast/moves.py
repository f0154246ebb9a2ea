"""The resample-move step with a Metropolis–Hastings kernel on the parameters (``--move mcmc``).

Why: a Liu–West jitter only shrinks the parameter cloud towards what the particles already
hold; with many reports of the same stock (a count every other day, grade B) the few parameter
values that survive resampling soon stand for the whole posterior, and its intervals are too
narrow (docs/forecasting.md). A Metropolis–Hastings step after resampling moves each copy to a
new value with the right stationary law, so copies of one parent spread out again.

A path is a function of the parameters θ and of the particle's random streams u (the seed it
started with and the seed each resampling gave it, from that day on: ``Particles.streams``).
The target is p(θ) p(u) p(reports | path(θ, u)): the priors (``uncertain.toml``, in the
transformed space of :class:`borderflow.calibrate.abc.Space`, with its Jacobians), the
streams' law and the likelihood of every report weighed so far. The step moves θ with u held
(common random numbers): θ' from a Gaussian random walk around the copy's θ, with the
covariance of the particle cloud before resampling times 2.38²/d (Roberts and Rosenthal's
scaling); the path under θ' and the same streams is rerun from day 0, and θ' accepted with
chance min(1, p(θ') L(path') / (p(θ) L(path))). Holding u makes the likelihood ratio a smooth
function of θ, so proposals are not refused for the luck of a new stream (with a fresh stream
per proposal, under 5 % were accepted on the synthetic test case). Exact, and costly: each move
reruns every particle from day 0 (on the executors). Every copy, moved or not, then takes a
stream of its own from today on, as with the jitter.

Random numbers: particle i's proposal and its acceptance draw at generation g come from
``SeedSequence([seed, i, g, 2])``, its new stream from ``[seed, i, g, 3]``, as the jitter's.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from borderflow.calibrate.abc import Space
from borderflow.errors import ScenarioError
from borderflow.execute import Executor, Job, serial_executor
from borderflow.forecast.figures import simulated
from borderflow.forecast.likelihood import log_likelihood
from borderflow.forecast.parallel import discard
from borderflow.forecast.seeds import move_seed, stream_seed
from borderflow.forecast.target import Rules
from borderflow.observe.quantity import reliability_weights
from borderflow.scenario.border_schema import ObservationRow


def path_log_likelihood(model: Any, reports: Sequence[ObservationRow]) -> float:
    """Log chance of every report given one path's figures (weighed as the filter weighs them)."""
    weights = reliability_weights(reports)
    return float(
        sum(
            wt * log_likelihood(o, np.array([simulated(model, o)]))[0]
            for o, wt in zip(reports, weights, strict=True)
        )
    )


def _rules(rules: Rules) -> Rules:
    """A worker's context: the ruleset (a border model's template is built on first use)."""
    return rules


def _propose(ctx: tuple, item: tuple) -> tuple[int, tuple[Any, float] | None]:
    """Rerun the path under the proposal and the particle's streams from day 0.

    Returns the accepted path (given its new stream from today on) and its likelihood, or None.
    """
    rules = ctx
    i, values, streams, day, reports, threshold, new_stream = item
    model = rules.build(values, streams[0][1])
    ends = [d for d, _ in streams[1:]] + [day]
    for j, ((start, seed), end) in enumerate(zip(streams, ends, strict=True)):
        if j:
            rules.retune(model, values, seed)
        model.plan.run(range(start + 1, end + 1))
    ll = path_log_likelihood(model, reports)
    if ll <= threshold:
        return i, None
    rules.retune(model, values, new_stream)
    return i, (model, ll)


def _cloud_scale(z: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Cholesky factor of the proposal's covariance: the cloud's, times 2.38²/d."""
    mean = w @ z
    cov = ((z - mean) * w[:, None]).T @ (z - mean) / max(1.0 - float(w @ w), 1e-12)
    d = z.shape[1]
    cov = cov * (2.38**2 / d) + np.eye(d) * 1e-10
    return np.linalg.cholesky(cov)


def mcmc_move(
    p: Any,
    rules: Rules,
    space: Space,
    parents: np.ndarray,
    reports: Sequence[ObservationRow],
    executor: Executor | None,
) -> float:
    """Move the resampled copies ``parents`` of ``p`` by one Metropolis–Hastings step.

    ``p`` holds the cloud before resampling (its weights set the proposal's scale); on
    return it holds the moved copies, equally weighed. Returns the acceptance rate.
    """
    if p.streams is None:
        raise ScenarioError("these particles predate --move mcmc: start again with --refit")
    g, w = p.generation, p.weights
    z = space.to_z(p.values)
    chol = _cloud_scale(z, w)
    loglik = p.path_loglik()
    items, current = [], []
    for i, k in enumerate(parents):
        rng = np.random.Generator(np.random.PCG64(move_seed(p.seed, i, g)))
        z_new = z[k] + chol @ rng.normal(size=z.shape[1])
        log_u = math.log(rng.random())
        prior_new = space.log_prior(z_new)
        # accept when log u < ll' + prior' − ll − prior: the bar the new path's ll must clear
        threshold = log_u + loglik[k] + space.log_prior(z[k]) - prior_new
        values = dict(zip(p.names, map(float, space.to_x(z_new)), strict=True))
        new = stream_seed(p.seed, i, g)
        items.append((i, values, p.streams[k], p.day, list(reports), threshold, new))
        current.append((int(k), space.to_x(z_new)))
    moved: dict[int, tuple[Any, float]] = {}

    def done(i: int, result: tuple[Any, float] | None) -> None:
        if result is not None:
            moved[i] = result

    (executor or serial_executor()).run(Job(_rules, _propose), (rules,), items, done)
    _install(p, rules, parents, current, moved, loglik)
    p.streams = [[*p.streams[k], (p.day, stream_seed(p.seed, i, g))] for i, k in enumerate(parents)]
    return len(moved) / len(parents)


def _install(
    p: Any,
    rules: Rules,
    parents: np.ndarray,
    proposals: list[tuple[int, np.ndarray]],
    moved: dict[int, tuple[Any, float]],
    loglik: np.ndarray,
) -> None:
    """The new cloud: accepted paths, and copies of the parents (each with its own stream)."""
    taken: set[int] = set()
    models, values, lls = [], [], []
    for i, (k, x_new) in enumerate(proposals):
        if i in moved:
            model, ll = moved[i]
            models.append(model)
            values.append(x_new)
            lls.append(ll)
            continue
        model = p.models[k] if k not in taken else copy.deepcopy(p.models[k])
        taken.add(k)
        vals = dict(zip(p.names, map(float, p.values[k]), strict=True))
        rules.retune(model, vals, stream_seed(p.seed, i, p.generation))
        models.append(model)
        values.append(p.values[k])
        lls.append(loglik[k])
    discard(p.models, keep=models)  # the particles not drawn
    p.models = models
    p.values = np.array(values)
    p.loglik = np.array(lls)
    p.log_w = np.zeros(len(models))
