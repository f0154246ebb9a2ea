"""A particle filter over border-model states: sequential importance resampling with moves.

A particle is a whole model state (every person, every count so far) with its parameter
values. The filter steps through the days on which reports become known (a report of a mean
or a maximum over a period is known on its last day): it runs every particle to that day,
weighs it by the chance of the reports given its simulated figures
(:mod:`borderflow.forecast.likelihood`), and when the effective sample size falls below a
threshold it resamples (systematic) and *moves* the copies: parameters take a Liu–West
shrinkage step in the transformed space of :class:`borderflow.calibrate.abc.Space` (which
keeps the parameters' mean and spread and lets the data pull them), and every copy takes a
random stream of its own, so that copies of one state have different futures.

Every random number comes from (root seed, particle index, generation): the initial draw as an
ensemble member's (:func:`borderflow.ensemble.runner.member_draw`), the move of particle i at
generation g from ``SeedSequence([seed, i, g, 2])``, the resampling of generation g from
``SeedSequence([seed, g, 4])``. A filter stopped after any step and continued later computes
the same particles as one that never stopped.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from borderflow.calibrate.abc import Space
from borderflow.calibrate.problem import last_day
from borderflow.ensemble.params import Distribution, Normal
from borderflow.ensemble.runner import member_draw
from borderflow.errors import ScenarioError
from borderflow.execute import Executor
from borderflow.forecast.figures import daily, simulated
from borderflow.forecast.likelihood import log_likelihood
from borderflow.forecast.model_error import ModelError
from borderflow.forecast.parallel import advance_models, discard
from borderflow.forecast.seeds import move_seed, stream_seed
from borderflow.forecast.target import BorderRules, Rules
from borderflow.observe.quantity import quantity_series, reliability_weights
from borderflow.results.series import FLOW_SEPARATOR
from borderflow.rules.border import BorderModel
from borderflow.scenario.border_io import BorderCase
from borderflow.scenario.border_schema import ObservationRow

ESS_THRESHOLD = 0.5  # resample when the effective sample size falls below half the particles
SHRINK = 0.98  # Liu–West: a = 0.98 moves parameters by √(1 − a²) ≈ 0.2 of their spread


@dataclass
class Step:
    """What one assimilation step did (a row group of assimilated.csv)."""

    generation: int
    day: int
    observations: list[ObservationRow]
    medians: list[float]  # weighted median of each observation's simulated figure, before
    ess: float  # effective sample size after weighing
    resampled: bool


@dataclass
class Particles:
    """The filter's state: models on day ``day`` (days 0..day run), values, log weights."""

    seed: int
    names: list[str]
    models: list[BorderModel]
    values: np.ndarray  # (particles, parameters)
    log_w: np.ndarray
    day: int = -1
    generation: int = 0
    used: list[ObservationRow] = field(default_factory=list)
    # what a move that reruns particles from day 0 needs (None in particles stored before it)
    capacity: dict[str, int] | None = None
    loglik: np.ndarray | None = None  # log chance of every report used, given each one's path
    # each particle's streams: (day, seed) pairs, the seed taken at the end of that day
    streams: list[list[tuple[int, int]]] | None = None
    # how likely each report was under the filter's forecast of it (None: stored before it)
    model_error: ModelError | None = None

    def path_loglik(self) -> np.ndarray:
        return np.zeros(len(self.models)) if self.loglik is None else self.loglik

    @property
    def weights(self) -> np.ndarray:
        w = np.exp(self.log_w - self.log_w.max())
        return w / w.sum()

    def ess(self) -> float:
        w = self.weights
        return float(1.0 / np.sum(w * w))


def initial(
    case: BorderCase,
    params,
    *,
    particles: int,
    seed: int,
    capacity: dict[str, int] | None = None,
) -> Particles:
    """A border case's particles (see :func:`initial_particles`)."""
    return initial_particles(BorderRules(case, seed, capacity), params, particles, seed, capacity)


def initial_particles(
    rules: Rules, params, particles: int, seed: int, capacity: dict[str, int] | None = None
) -> Particles:
    """Particles drawn as ensemble members (same values and seeds), on the eve of day 0.

    A border particle starts from one compiled model (places, roads, population), copied, and
    takes its own parameters and stream, which costs a copy instead of a build per particle.
    """
    if particles < 2:
        raise ScenarioError(f"--members {particles} must be at least 2 for a particle filter")
    names = list(params)
    if any(n.startswith("population.") for n in names):
        raise ScenarioError("a forecast cannot vary the population: it is built once")
    models, values, streams = [], [], []
    for i in range(particles):
        sim_seed, vals = member_draw(params, seed, i)
        streams.append([(-1, sim_seed)])
        models.append(rules.build(vals, sim_seed))
        values.append([vals[n] for n in names])
    return Particles(
        seed, names, models, np.array(values), np.zeros(particles), capacity=capacity or {},
        streams=streams,
    )  # fmt: skip


def advance(
    p: Particles,
    day: int,
    on_day: Callable[[], None] | None = None,
    executor: Executor | None = None,
) -> None:
    """Run every particle to the end of ``day`` (on ``executor`` when that is worth it)."""
    if day <= p.day:
        return
    p.models = advance_models(p.models, p.day + 1, day, executor, on_day)
    p.day = day


def countable(model: Any, o: ObservationRow) -> bool:
    """Whether the model counts a report's figure (a store may hold other cases' reports).

    A road's flow is counted even when the run has no row for it yet: no row means no flow.
    """
    if not isinstance(model, BorderModel):
        return daily(model, o) is not None
    series = model.result().series
    if quantity_series(series, o.location, o.indicator) is not None:
        return True
    return o.indicator == "flow" and o.location in {
        f"{r.from_}{FLOW_SEPARATOR}{r.to}" for r in model.case.routes
    }


def weighted_median(x: np.ndarray, w: np.ndarray) -> float:
    order = np.argsort(x, kind="stable")
    cum = np.cumsum(w[order])
    return float(x[order][np.searchsorted(cum, 0.5 * cum[-1])])


def systematic(w: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Systematic resampling: the indices of the particles each new particle copies."""
    n = len(w)
    positions = (rng.random() + np.arange(n)) / n
    cum = np.cumsum(w)
    cum[-1] = 1.0
    return np.searchsorted(cum, positions, side="left")


def space_of(names: Sequence[str], priors: dict[str, Distribution]) -> Space:
    """The transformed space of the parameters (a parameter without a prior moves as is)."""
    free = Normal(dist="normal", mean=0.0, sd=1.0, why="no prior: moves in its own units")
    return Space([priors.get(n, free) for n in names])


def resample_move(
    p: Particles,
    rules: Rules,
    space: Space,
    move: str = "jitter",
    reports: Sequence[ObservationRow] = (),
    executor: Executor | None = None,
) -> None:
    """Resample (systematic), then move each copy's parameters and give it its own stream.

    ``jitter`` (Liu–West): z' = a z + (1 − a) z̄ + √(1 − a²) s ε in the transformed space, with
    z̄ and s the weighted mean and sd before resampling, so the cloud keeps its mean and
    spread. ``mcmc``: a Metropolis–Hastings step on the parameters, rerunning each proposal
    from day 0 and weighing it by every report in ``reports`` (:mod:`borderflow.forecast.moves`).
    """
    g = p.generation
    w = p.weights
    parents = systematic(w, np.random.Generator(np.random.PCG64([p.seed, g, 4])))
    if move == "mcmc":
        from borderflow.forecast.moves import mcmc_move

        mcmc_move(p, rules, space, parents, reports, executor)
        return
    if move != "jitter":
        raise ScenarioError(f"--move {move!r}: choose jitter or mcmc")
    p.loglik = p.path_loglik()[parents]
    if p.streams is not None:
        p.streams = [
            [*p.streams[k], (p.day, stream_seed(p.seed, i, g))] for i, k in enumerate(parents)
        ]
    z = space.to_z(p.values)
    mean = w @ z
    sd = np.sqrt(np.maximum(w @ (z - mean) ** 2, 0.0))
    taken: set[int] = set()
    models, values = [], []
    for i, k in enumerate(parents):
        rng = np.random.Generator(np.random.PCG64(move_seed(p.seed, i, g)))
        step = np.sqrt(1 - SHRINK**2) * sd * rng.normal(size=len(sd))
        vi = space.to_x(SHRINK * z[k] + (1 - SHRINK) * mean + step)
        # a parent's first copy is the parent itself; retune replaces all it changes
        model = p.models[k] if k not in taken else copy.deepcopy(p.models[k])
        taken.add(int(k))
        vals = dict(zip(p.names, map(float, vi), strict=True))
        rules.retune(model, vals, stream_seed(p.seed, i, g))
        models.append(model)
        values.append(vi)
    discard(p.models, keep=models)  # the particles not drawn
    p.models = models
    p.values = np.array(values)
    p.log_w = np.zeros(len(models))


def schedule(
    observations: Sequence[ObservationRow], start: dt.date, day: int, origin: int
) -> list[tuple[int, list[ObservationRow]]]:
    """Reports grouped by the day they are assimilated: their last day, or ``day`` if earlier.

    A report that arrives late (its period ended before the particles' day) is weighed on the
    particles' day, from their recorded history. Reports ending after ``origin`` wait.
    """
    due: dict[int, list[ObservationRow]] = {}
    for o in observations:
        last = (last_day(o) - start).days
        if o.date < start or last > origin:
            continue
        due.setdefault(max(last, day), []).append(o)
    return sorted(due.items())


def assimilate(
    p: Particles,
    case: BorderCase | Rules,
    space: Space,
    observations: Sequence[ObservationRow],
    origin: int,
    on_step: Callable[[Step], None] | None = None,
    executor: Executor | None = None,
    move: str = "jitter",
) -> list[Step]:
    """Weigh the particles by every report known by ``origin``, then run them to ``origin``.

    Reports of figures the model does not count (another case's places) are left out.
    ``move`` rejuvenates the parameters after a resampling (see :func:`resample_move`).
    ``case`` is a border case, or the ruleset of the particles (:mod:`.target`).
    """
    rules = BorderRules(case, p.seed, p.capacity) if isinstance(case, BorderCase) else case
    steps: list[Step] = []
    start = p.models[0].start_date
    mine = [o for o in observations if countable(p.models[0], o)]
    if p.model_error is None:  # new particles, or particles stored before the record
        p.model_error = ModelError(last_day=p.day)
    for day, group in schedule(mine, start, p.day, origin):
        advance(p, day, executor=executor)
        x = np.array([[simulated(m, o) for o in group] for m in p.models])
        w = p.weights
        medians = [weighted_median(x[:, j], w) for j in range(len(group))]
        weights = reliability_weights(group)
        p.model_error.record(day, x, w, group, weights)
        ll = sum(
            wt * log_likelihood(o, x[:, j])
            for j, (o, wt) in enumerate(zip(group, weights, strict=True))
        )
        if not np.isfinite(np.max(p.log_w + ll)):
            raise ScenarioError(f"no particle is compatible with the reports of day {day}")
        p.log_w = p.log_w + ll
        p.log_w -= p.log_w.max()
        p.loglik = p.path_loglik() + ll
        ess = p.ess()
        p.generation += 1
        resampled = ess < ESS_THRESHOLD * len(p.models)
        if resampled:
            resample_move(p, rules, space, move, [*p.used, *group], executor)
        p.used.extend(group)
        step = Step(p.generation, day, list(group), medians, ess, resampled)
        steps.append(step)
        if on_step is not None:
            on_step(step)
    advance(p, origin, executor=executor)
    return steps
