"""An episode's forecast from its origin against what was reported after it.

The forecast is an ensemble of whole runs of the case from its start (a border model starts
from nothing observed: reports are ranges of a few figures, not a state), with parameters drawn
from a fit or from priors. It is scored on every report whose last day is after the origin,
with the backtest's scores (:mod:`borderflow.calibrate.scoring`: CRPS, coverage of the 50 %
and 90 % bands), and summarised by the crowd's peak and its clearance on the headline series.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

import numpy as np

from borderflow.calibrate.predictive import Key, MemberRuns, run_members
from borderflow.calibrate.problem import BorderProblem, last_day
from borderflow.calibrate.scoring import ForecastPoint, baselines, score
from borderflow.execute import Executor
from borderflow.scenario.border_schema import ObservationRow

CLEAR_SHARE = 0.10  # cleared: the first day below this share of the peak


def series_keys(problem: BorderProblem) -> list[Key]:
    """Every observed (place, indicator), in a fixed order."""
    return sorted({(o.location, o.indicator) for o in problem.observations})


def forecast_runs(
    problem: BorderProblem,
    params,
    *,
    members: int,
    seed: int,
    stream: int,
    executor: Executor | None = None,
) -> MemberRuns:
    """``members`` runs over the whole case; ``params``: a PosteriorSampler or priors."""
    return run_members(problem, params, series_keys(problem), members=members,
                       until=problem.days - 1, origin=None, seed=seed, stream=stream,
                       executor=executor)  # fmt: skip


def after_origin(problem: BorderProblem, origin: dt.date) -> list[ObservationRow]:
    return [o for o in problem.covered() if last_day(o) > origin]


def headline(rows: list[ObservationRow]) -> Key | None:
    """The series reported most often after the origin (ties: stranded first, then by name)."""
    counts = Counter((o.location, o.indicator) for o in rows)
    if not counts:
        return None
    return min(counts, key=lambda k: (-counts[k], k[1] != "stranded", k))


def points(runs: MemberRuns, problem: BorderProblem, origin: dt.date) -> list[ForecastPoint]:
    """Each report after the origin with the members' figures and the persistence forecast."""
    known = problem.restrict(origin).observations
    out = []
    for o in after_origin(problem, origin):
        f = runs.figures(o)
        if f is not None and np.all(np.isfinite(f)):
            persistence, trend = baselines(known, o)
            out.append(ForecastPoint(origin, o, f, persistence, trend))
    return out


def report_points(pts: list[ForecastPoint], seed: int) -> list[ForecastPoint]:
    """The same forecasts as forecasts of the *report*: each member with the grade's error.

    Point k's draws come from (seed, k, 7), as in benchmarks/forecast_cycle.py.
    """
    from borderflow.forecast.likelihood import report_draws

    return [
        ForecastPoint(p.origin, p.obs, report_draws(p.members, p.obs,
                      np.random.default_rng([seed, k, 7])), p.persistence, p.trend)
        for k, p in enumerate(pts)
    ]  # fmt: skip


def persistence_points(pts: list[ForecastPoint]) -> list[ForecastPoint]:
    """The points persistence can forecast, as a one-member 'ensemble' (its CRPS is its MAE)."""
    return [
        ForecastPoint(p.origin, p.obs, np.array([p.persistence]), p.persistence, p.trend)
        for p in pts
        if p.persistence is not None
    ]


@dataclass(frozen=True)
class Peak:
    """A peak and the day the crowd cleared (first day below 10 % of the peak after it)."""

    low: float  # reported: the range; forecast: the 90 % interval
    mid: float  # reported: the midpoint; forecast: the median
    high: float
    date: str
    cleared: str


def reported_peak(rows: list[ObservationRow], key: Key) -> Peak | None:
    """The highest report of ``key`` (a day's count or a period's maximum) and its clearance."""
    mine = [o for o in rows if (o.location, o.indicator) == key and o.stat in ("value", "max")]
    if not mine:
        return None
    top = max(mine, key=lambda o: (0.5 * (o.low + o.high), o.date))
    mid = 0.5 * (top.low + top.high)
    when = str(top.date) if top.end is None else f"{top.date}/{top.end}"
    low = [o for o in mine if o.date > top.date and o.high < CLEAR_SHARE * mid]
    clear = min(low, key=lambda o: o.date, default=None)
    return Peak(top.low, mid, top.high, when, str(clear.date) if clear else "")


def forecast_peak(runs: MemberRuns, key: Key, origin: dt.date) -> Peak | None:
    """Each member's peak after the origin: median, 90 % interval, median date and clearance."""
    if key not in runs.keys:
        return None
    first = (origin - runs.start).days + 1
    x = runs.values[:, first:, runs.keys.index(key)]
    if x.shape[1] == 0:
        return None
    peaks = x.max(axis=1)
    at = x.argmax(axis=1)
    clear = []
    for m in range(len(x)):
        below = np.nonzero(x[m, at[m] :] < CLEAR_SHARE * peaks[m])[0]
        clear.append(at[m] + below[0] if len(below) else np.nan)

    def date(days: float) -> str:
        if not np.isfinite(days):
            return ""
        return str(runs.start + dt.timedelta(days=round(first + days)))

    lo, mid, hi = np.quantile(peaks, [0.05, 0.5, 0.95])
    cleared = np.array(clear, dtype=float)
    done = cleared[np.isfinite(cleared)]
    return Peak(float(lo), float(mid), float(hi), date(float(np.median(at))),
                date(float(np.median(done))) if len(done) > len(x) / 2 else "")  # fmt: skip


def scores(pts: list[ForecastPoint]) -> dict[str, float]:
    """CRPS and coverage (the backtest's), on the given points."""
    s = score(pts)
    return {k: s[k] for k in ("points", "crps", "cover50", "cover90")}
