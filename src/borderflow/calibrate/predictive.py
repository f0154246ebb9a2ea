"""Posterior-predictive forecasts from an origin, with an error model fitted before the origin.

Members draw whole particles of the posterior and run to the end of the horizon; with
``assimilate``, each starts from the state observed at the origin (a Flee scenario's camp
counts). The members' spread says what the parameters and chance leave open; it does not
say how far the model itself is from reality. That is what the error model adds: each
member's figure is multiplied by exp(σ·z), z standard normal, where σ is what the members'
spread lacks to match the log error of the same forecaster in a hindcast *before* the origin
(started one horizon earlier, scored on the observations in between). Only data up to the
origin enter it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from borderflow.calibrate.problem import Problem, figure, last_day
from borderflow.ensemble.params import PosteriorSampler, draw
from borderflow.execute import Executor, Job, pool_executor
from borderflow.results.hxl import write_csv
from borderflow.scenario.border_schema import ObservationRow

Key = tuple[str, str]  # (location, indicator)
ERROR_DRAWS = 10  # error-model draws per member


@dataclass
class MemberRuns:
    """Daily series of each member for each (location, indicator), days 0..until."""

    keys: list[Key]
    values: np.ndarray  # (members, days, keys)
    start: dt.date

    def figures(self, o: ObservationRow) -> np.ndarray | None:
        """Each member's figure for an observation (None if not simulated)."""
        key = (o.location, o.indicator)
        if key not in self.keys:
            return None
        j = self.keys.index(key)
        out = [figure(self.values[m, :, j], self.start, o) for m in range(len(self.values))]
        return None if out[0] is None else np.array(out)


def posterior_sampler(post, priors) -> PosteriorSampler:
    """A calibration's particles, with the fixed parameters as constant columns."""
    from borderflow.ensemble.params import Fixed

    fixed = {n: d.value for n, d in priors.items() if isinstance(d, Fixed)}
    cols = [post.particles] + [np.full((len(post.particles), 1), v) for v in fixed.values()]
    return PosteriorSampler([*post.names, *fixed], np.hstack(cols), post.weights)


@dataclass(frozen=True)
class RunContext:
    """What a worker holds for posterior-predictive members.

    The problem, the series to keep, the last day to run, and the day to start from the
    observed state (None: from the start).
    """

    problem: Problem
    keys: list[Key]
    until: int
    origin: int | None


def _member(ctx: RunContext, task: tuple[int, dict[str, float], int]) -> tuple[int, np.ndarray]:
    m, values, seed = task
    sim = ctx.problem.simulate(values, seed, ctx.until, origin=ctx.origin)
    days = ctx.until + 1
    cols = []
    for loc, ind in ctx.keys:
        series = sim.daily(loc, ind)
        cols.append(np.full(days, np.nan) if series is None else series[:days])
    return m, np.column_stack(cols).astype(float)


MEMBER_RUN_JOB = Job(RunContext, _member)


def run_members(
    problem: Problem,
    posterior: PosteriorSampler,
    keys: Sequence[Key],
    *,
    members: int,
    until: int,
    origin: int | None,
    seed: int,
    stream: int = 0,
    executor: Executor | None = None,
) -> MemberRuns:
    """Run ``members`` posterior draws to day ``until`` (same draws for the same seed/stream)."""
    tasks = []
    for m in range(members):
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, stream, m, 0])))
        sim_seed = int(np.random.SeedSequence([seed, stream, m, 1]).generate_state(1)[0])
        tasks.append((m, draw(posterior, rng), sim_seed))
    out = np.empty((members, until + 1, len(keys)))

    def done(m: int, values: np.ndarray) -> None:
        out[m] = values

    init = (problem, list(keys), until, origin)
    (executor or pool_executor()).run(MEMBER_RUN_JOB, init, tasks, done)
    return MemberRuns(list(keys), out, problem.start)


@dataclass(frozen=True)
class ErrorModel:
    """Log-scale sd of the forecaster's error, per observed series, fitted before the origin.

    Series differ a lot (a large camp the model follows closely, a small one it misses by a
    factor), so each has its own sd when the hindcast scored it at least ``MIN_POINTS`` times;
    the others take the pooled sd.

    A relative error needs a count to be relative to. A series the hindcast started from a
    positive observed count ("anchored": the forecast's own situation for every series it
    starts from an observed count) measures how far a count drifts; a series that was empty
    or not yet observed then (a camp not yet open) measures whether the model foresaw it
    filling at all, an error often a hundredfold. The two are pooled apart: ``pooled`` and
    ``by_key`` from anchored series only, ``opening`` from the others, and a series gets the
    sd of the situation it is in at the forecast's origin.
    """

    pooled: float
    by_key: dict[Key, float]
    points: int
    opening: float = float("nan")

    MIN_POINTS = 3

    def sigma(self, key: Key, anchored: bool = True) -> float:
        """The sd for ``key``; ``anchored``: it has a positive observed count at the origin."""
        first, other = (self.by_key.get(key, self.pooled), self.opening)
        if not anchored:
            first, other = other, first
        return first if math.isfinite(first) else other


def anchored_keys(rows: Sequence[ObservationRow], day: dt.date) -> frozenset[Key]:
    """Series whose last observation known on ``day`` is a positive count."""
    last: dict[Key, tuple[dt.date, float]] = {}
    for o in rows:
        end, key = last_day(o), (o.location, o.indicator)
        if end <= day and (key not in last or end >= last[key][0]):
            last[key] = (end, 0.5 * (o.low + o.high))
    return frozenset(k for k, (_, v) in last.items() if v > 0)


def log_error(
    runs: MemberRuns,
    rows: Sequence[ObservationRow],
    after: dt.date,
    anchored: frozenset[Key] | None = None,
) -> ErrorModel:
    """The sd the members' spread lacks, on rows ending after ``after``, on the log scale.

    With e = log((observed + 1) / (median member + 1)) and v the variance of the members'
    log(x + 1) at the same point, the sd is √max(mean e² − mean v, 0): the members already
    spread by v, and drawing the full error on top of that would count their spread twice
    (a well-spread ensemble would get intervals √2 too wide).

    ``anchored``: the series the runs started from a positive observed count (None: all).
    """
    pts: dict[Key, list[tuple[float, float]]] = {}
    for o in rows:
        if last_day(o) <= after:
            continue
        f = runs.figures(o)
        if f is None:
            continue
        y = 0.5 * (o.low + o.high)
        e = math.log((y + 1.0) / (float(np.median(f)) + 1.0))
        pts.setdefault((o.location, o.indicator), []).append((e * e, float(np.var(np.log1p(f)))))
    if anchored is None:
        anchored = frozenset(pts)
    kept = {k: ps for k, ps in pts.items() if k in anchored}
    every = [p for ps in kept.values() for p in ps]
    new = [p for k, ps in pts.items() if k not in anchored for p in ps]

    def sd(ps: list[tuple[float, float]]) -> float:
        if not ps:
            return float("nan")
        e2, v = np.mean(ps, axis=0)
        return float(np.sqrt(max(e2 - v, 0.0)))

    by_key = {k: sd(ps) for k, ps in kept.items() if len(ps) >= ErrorModel.MIN_POINTS}
    return ErrorModel(sd(every), by_key, len(every) + len(new), sd(new))


def with_error(values: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    """Predictive draws, ERROR_DRAWS per member along a new last axis: (x + 1)·exp(σ·z) − 1.

    The +1 matches :func:`log_error`, so a count of zero stays possible and never negative.
    """
    x = np.asarray(values, dtype=float)[..., None]
    if not (sigma > 0):
        return np.repeat(x, 1, axis=-1)
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 77])))
    z = rng.standard_normal((*x.shape[:-1], ERROR_DRAWS))
    return np.maximum((x + 1.0) * np.exp(sigma * z) - 1.0, 0.0)


def write_flee_predictive(problem: Problem, runs: MemberRuns, out_dir, lang: str = "en") -> list:
    """A Flee scenario's posterior-predictive ensemble over its whole period.

    bands.csv (HXL: date, camp, indicator, 5–95 % quantiles and mean over members) and
    fan.png (each observed camp's bands with its observations).
    """
    from borderflow.report.plots.calibration import plot_camp_fan
    from borderflow.results.atomic import atomic_outputs

    keys, members = runs.keys, len(runs.values)
    q = np.quantile(runs.values, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)  # (5, days, keys)
    mean = runs.values.mean(axis=0)

    tags = {"date": "#date", "location": "#loc+name", "indicator": "#indicator+code",
            "q05": "#value+q05", "q25": "#value+q25", "q50": "#value+q50", "q75": "#value+q75",
            "q95": "#value+q95", "mean": "#value+mean"}  # fmt: skip

    def rows():
        for d in range(runs.values.shape[1]):
            date = problem.start + dt.timedelta(days=d)
            for j, (loc, ind) in enumerate(keys):
                yield [date, loc, ind, *(f"{q[k, d, j]:.6g}" for k in range(5)),
                       f"{mean[d, j]:.6g}"]  # fmt: skip

    out_dir = Path(out_dir)
    with atomic_outputs(out_dir) as out:
        out.write("bands.csv", lambda p: write_csv(p, tags, rows()))
        out.write("fan.png", lambda p: plot_camp_fan(runs, problem, members, p, lang))
    return [out_dir / "bands.csv", out_dir / "fan.png"]


@dataclass(frozen=True)
class FitRow:
    """How a posterior-predictive ensemble reproduces one observation."""

    obs: ObservationRow
    q05: float
    q50: float
    q95: float

    @property
    def inside(self) -> bool:
        """The median lies inside the reported range."""
        return self.obs.low <= self.q50 <= self.obs.high


def observed_runs(
    problem: Problem,
    posterior: PosteriorSampler,
    *,
    members: int,
    until: int,
    seed: int,
    executor: Executor | None = None,
) -> MemberRuns:
    """Posterior-predictive members of every observed series, days 0..``until``."""
    keys = sorted({(o.location, o.indicator) for o in problem.covered()})
    return run_members(problem, posterior, keys, members=members, until=until, origin=None,
                       seed=seed, stream=5, executor=executor)  # fmt: skip


def fit_rows(rows: Sequence[ObservationRow], runs: MemberRuns) -> list[FitRow]:
    """Each observation against the 5 %, 50 % and 95 % of the members."""
    out = []
    for o in rows:
        f = runs.figures(o)
        if f is not None:
            q05, q50, q95 = np.quantile(f, [0.05, 0.5, 0.95])
            out.append(FitRow(o, float(q05), float(q50), float(q95)))
    return out


def write_fit(rows: Sequence[FitRow], path) -> None:
    """fit.csv: each observation, its reported range and the ensemble's quantiles (HXL)."""
    tags = {"date": "#date+start", "end": "#date+end", "stat": "#meta+stat",
            "location": "#loc+name", "indicator": "#indicator+code", "low": "#indicator+num+min",
            "high": "#indicator+num+max", "q05": "#value+q05", "median": "#value+median",
            "q95": "#value+q95", "inside": "#meta+inside"}  # fmt: skip
    table = (
        [r.obs.date, r.obs.end or "", r.obs.stat, r.obs.location, r.obs.indicator,
         f"{r.obs.low:g}", f"{r.obs.high:g}", f"{r.q05:.6g}", f"{r.q50:.6g}", f"{r.q95:.6g}",
         "yes" if r.inside else "no"]
        for r in rows
    )  # fmt: skip
    write_csv(Path(path), tags, table)
