"""Rolling-origin backtest: fit on what was known at each origin, forecast, score what followed.

At each origin t: ABC-SMC on the observations fully known by t; a posterior-predictive
ensemble run from t to t + horizon (from the observed state at t where the model can take it);
an error model fitted on a hindcast before t (:mod:`borderflow.calibrate.predictive`); then
every observation ending in (t, t + horizon] is scored against the ensemble and against two
naive forecasts (persistence and trend), with :mod:`borderflow.calibrate.scoring`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from borderflow.calibrate.abc import Method, Posterior, abc_smc
from borderflow.calibrate.predictive import (
    ErrorModel,
    Key,
    MemberRuns,
    anchored_keys,
    log_error,
    posterior_sampler,
    run_members,
    with_error,
)
from borderflow.calibrate.problem import Problem, last_day
from borderflow.calibrate.scoring import SCORE_COLUMNS, ForecastPoint, baselines, score
from borderflow.ensemble.params import Distribution, PosteriorSampler
from borderflow.errors import ScenarioError
from borderflow.execute import Executor
from borderflow.report.plots.calibration import BACKTEST_ROWS, BacktestPanel, Mark, plot_backtest
from borderflow.scenario.border_schema import ObservationRow


@dataclass(frozen=True)
class BacktestSettings:
    horizon: int = 14
    particles: int = 40
    generations: int = 3
    members: int = 30
    seed: int = 0
    assimilate: bool = True
    method: Method = "beaumont"  # ABC-SMC's (calibrate/abc.py)


@dataclass
class OriginResult:
    origin: dt.date
    posterior: Posterior
    errors: ErrorModel  # fitted on a hindcast before the origin
    runs: MemberRuns  # forecast members, days 0..origin + horizon
    points: list[ForecastPoint]
    anchored: frozenset[Key]  # series with a positive observed count at the origin

    def sigma(self, key: Key) -> float:
        """The error model's sd for a series, in the situation it is in at the origin."""
        return self.errors.sigma(key, key in self.anchored)


def default_origins(problem: Problem, horizon: int, count: int) -> list[dt.date]:
    """``count`` origins spread over the observed period, each with data before and after.

    Candidates are the days observations end; an origin needs at least one observation
    known by it and one ending within the horizon after it.
    """
    rows = problem.covered()
    ends = sorted({last_day(o) for o in rows})
    ok = [
        t
        for t in ends
        if any(t < last_day(o) <= t + dt.timedelta(days=horizon) for o in rows) and t > ends[0]
    ]
    if not ok:
        raise ScenarioError(
            f"no origin has observations both before it and within {horizon} days after it",
            file=problem.path,
        )
    if len(ok) <= count:
        return ok
    picks = np.linspace(0, len(ok) - 1, count).round().astype(int)
    return [ok[i] for i in sorted(set(picks))]


def backtest(
    problem: Problem,
    priors: dict[str, Distribution],
    origins: Sequence[dt.date],
    settings: BacktestSettings,
    *,
    executor: Executor | None = None,
    report: Callable[[str], None] | None = None,
) -> list[OriginResult]:
    """Fit, forecast and score at each origin, in order."""
    s = settings
    say = report or (lambda _msg: None)
    horizon = dt.timedelta(days=s.horizon)
    out = []
    for i, t in enumerate(origins):
        fit = problem.restrict(t)
        if not fit.covered():
            raise ScenarioError(f"{problem.name}: nothing observed by the origin {t}")
        tests = [o for o in problem.covered() if t < last_day(o) <= t + horizon]
        origin = (t - problem.start).days
        until = min(origin + s.horizon, problem.days - 1)
        say(f"origin {t}: fitting to {len(fit.observations)} observations")
        post = abc_smc(fit, priors, particles=s.particles, generations=s.generations,
                       seed=s.seed + 1000 * i, executor=executor, method=s.method)  # fmt: skip
        sampler = posterior_sampler(post, priors)
        keys = sorted({(o.location, o.indicator) for o in [*fit.observations, *tests]})
        say(f"origin {t}: {s.members} members to {problem.start + dt.timedelta(days=until)}")
        runs = run_members(fit, sampler, keys, members=s.members, until=until,
                           origin=origin if s.assimilate else None, seed=s.seed,
                           stream=2 * i + 1, executor=executor)  # fmt: skip
        errors = _error_model(problem, t, runs, sampler, s, i, executor)
        anchored = anchored_keys(fit.observations, t)
        points = []
        for k, o in enumerate(tests):
            f = runs.figures(o)
            if f is None:
                continue
            key = (o.location, o.indicator)
            sigma = errors.sigma(key, key in anchored)
            draws = with_error(f, sigma, s.seed + 7919 * i + k).ravel()
            persistence, trend = baselines(fit.observations, o)
            points.append(ForecastPoint(t, o, draws, persistence, trend))
        out.append(OriginResult(t, post, errors, runs, points, anchored))
    return out


def _error_model(
    problem: Problem,
    t: dt.date,
    runs: MemberRuns,
    sampler: PosteriorSampler,
    s: BacktestSettings,
    i: int,
    executor: Executor | None,
) -> ErrorModel:
    """σ from a hindcast started before the origin ``t``; else from the forecast's own fit.

    The hindcast starts one horizon before the origin, or halfway through the data known by
    then if that is shorter, so that it always has observations to start from and to score.
    It runs the forecast's members (``runs``) over the same series up to the origin.
    """
    fit = problem.restrict(t)
    first = min(last_day(o) for o in fit.covered())
    t0 = t - dt.timedelta(days=min(s.horizon, (t - first).days // 2))
    early = problem.restrict(t0)
    if t0 > problem.start and early.covered():
        origin = (t - problem.start).days
        hind = run_members(early, sampler, runs.keys, members=s.members, until=origin,
                           origin=(t0 - problem.start).days if s.assimilate else None,
                           seed=s.seed, stream=2 * i + 2, executor=executor)  # fmt: skip
        model = log_error(hind, fit.observations, after=t0,
                          anchored=anchored_keys(early.observations, t0))  # fmt: skip
        if model.points:
            return model
    return log_error(runs, fit.observations, after=dt.date.min)


def all_points(results: Sequence[OriginResult]) -> list[ForecastPoint]:
    return [p for r in results for p in r.points]


def score_table(results: Sequence[OriginResult]) -> list[dict]:
    """One row of scores per origin, then one for all origins together."""
    rows = [{"origin": str(r.origin), **score(r.points)} for r in results]
    rows.append({"origin": "all", **score(all_points(results))})
    return rows


def write_backtest(
    results: Sequence[OriginResult], problem: Problem, out_dir: Path, lang: str = "en"
) -> list[Path]:
    """scores.csv, points.csv and posteriors.csv (HXL), and backtest.png (in ``lang``)."""
    from borderflow.results.atomic import atomic_outputs
    from borderflow.results.hxl import write_csv

    def scores_csv(path: Path) -> None:
        tags = {"origin": "#date+origin", **{c: f"#indicator+score+{c}" for c in SCORE_COLUMNS}}
        rows = (
            [row["origin"], *(_num(row[c]) for c in SCORE_COLUMNS)] for row in score_table(results)
        )
        write_csv(path, tags, rows)

    def points_csv(path: Path) -> None:
        tags = {"origin": "#date+origin", "date": "#date+start", "end": "#date+end",
                "stat": "#meta+stat", "location": "#loc+name", "indicator": "#indicator+code",
                "low": "#indicator+num+min", "high": "#indicator+num+max", "lead": "#meta+lead",
                "q05": "#value+q05", "q25": "#value+q25", "q50": "#value+q50",
                "q75": "#value+q75", "q95": "#value+q95", "persistence": "#value+persistence",
                "trend": "#value+trend"}  # fmt: skip

        def rows():
            for p in all_points(results):
                o = p.obs
                qs = np.quantile(p.members, [0.05, 0.25, 0.5, 0.75, 0.95])
                yield [p.origin, o.date, o.end or "", o.stat, o.location, o.indicator,
                       _num(o.low), _num(o.high), p.lead, *(_num(q) for q in qs),
                       _num(p.persistence), _num(p.trend)]  # fmt: skip

        write_csv(path, tags, rows())

    def posteriors_csv(path: Path) -> None:
        tags = {
            "origin": "#date+origin",
            "parameter": "#meta+param",
            "q05": "#value+q05",
            "median": "#value+median",
            "q95": "#value+q95",
            "simulations": "#meta+runs",
        }

        def rows():
            for r in results:
                q = r.posterior.quantiles([0.05, 0.5, 0.95])
                for j, name in enumerate(r.posterior.names):
                    yield [r.origin, name, *(_num(q[k, j]) for k in range(3)),
                           r.posterior.simulations]  # fmt: skip
                pools = [(("ALL", "ALL"), r.errors.pooled), (("OPENING", "ALL"), r.errors.opening)]
                for (loc, ind), sd in [*pools, *r.errors.by_key.items()]:
                    yield [r.origin, f"error_sd.{loc}.{ind}", "", _num(sd), "", r.errors.points]

        write_csv(path, tags, rows())

    with atomic_outputs(out_dir) as out:
        out.write("scores.csv", scores_csv)
        out.write("points.csv", points_csv)
        out.write("posteriors.csv", posteriors_csv)
        panels = chart_panels(results, problem)
        out.write("backtest.png", lambda p: plot_backtest(problem.name, panels, p, lang))
    return [out_dir / n for n in ("scores.csv", "points.csv", "posteriors.csv", "backtest.png")]


def _num(x: float | None) -> str:
    if x is None or not np.isfinite(x):
        return ""
    return f"{x:.6g}"


# -- what backtest.png draws (the plotting module draws it without knowing the error model) --


def chart_keys(results: Sequence[OriginResult]) -> list[Key]:
    """The series backtest.png shows: those scored most often, else the first simulated."""
    counts: dict[Key, int] = {}
    for r in results:
        for p in r.points:
            key = (p.obs.location, p.obs.indicator)
            counts[key] = counts.get(key, 0) + 1
    keys = sorted(counts, key=lambda k: (-counts[k], k))[:BACKTEST_ROWS]
    if not keys:
        keys = sorted({k for r in results for k in r.runs.keys})[:BACKTEST_ROWS]
    return keys


def chart_panels(results: Sequence[OriginResult], problem: Problem) -> list[list[BacktestPanel]]:
    """backtest.png's panels: per origin, the :func:`chart_keys` series with the error model."""
    day0 = np.datetime64(problem.start, "D")

    def mark(o: ObservationRow) -> Mark:
        return Mark(np.datetime64(o.date, "D"), np.datetime64(last_day(o), "D"), o.low, o.high)

    def panel(r: OriginResult, key: Key) -> BacktestPanel:
        span = max((p.lead for p in r.points), default=7)  # one horizon before the origin
        first = max(0, (r.origin - problem.start).days - span)
        last = r.runs.values.shape[1] - 1
        dates = day0 + np.arange(first, last + 1).astype("timedelta64[D]")
        bands = None
        if key in r.runs.keys:
            j = r.runs.keys.index(key)
            draws = with_error(r.runs.values[:, first : last + 1, j], r.sigma(key), 0)
            draws = np.moveaxis(draws, 0, -1).reshape(len(dates), -1)  # day × draws
            bands = np.quantile(draws, [0.05, 0.25, 0.5, 0.75, 0.95], axis=1)
        known = [
            o for o in problem.observations
            if (o.location, o.indicator) == key and last_day(o) <= r.origin
            and (last_day(o) - problem.start).days >= first
        ]  # fmt: skip
        scored = [p for p in r.points if (p.obs.location, p.obs.indicator) == key]
        return BacktestPanel(key[0], key[1], r.origin, dates, bands, [mark(o) for o in known],
                             [mark(p.obs) for p in scored],
                             scored[0].persistence if scored else None)  # fmt: skip

    keys = chart_keys(results)
    return [[panel(r, key) for key in keys] for r in results]
