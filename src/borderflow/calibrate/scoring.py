"""Forecast scores: point errors against naive baselines, and the ensemble's calibration.

An observation may be a range (low–high): a point forecast is scored against its midpoint,
and an interval covers it when the two overlap (the truth is somewhere in the range). The
averaged relative difference is Flee's: per date, Σ |forecast − observed| / Σ observed over the
places observed that date, averaged over dates; on camp series it is exactly Flee's measure.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from borderflow.calibrate.problem import last_day
from borderflow.scenario.border_schema import ObservationRow


@dataclass(frozen=True)
class ForecastPoint:
    """One observation after an origin, with what each forecaster said about it."""

    origin: object  # dt.date
    obs: ObservationRow
    members: np.ndarray  # predictive draws
    persistence: float | None  # the last value observed by the origin
    trend: float | None  # a line through the last two values observed by the origin

    @property
    def observed(self) -> float:
        return 0.5 * (self.obs.low + self.obs.high)

    @property
    def lead(self) -> int:
        return (last_day(self.obs) - self.origin).days

    def quantile(self, q: float) -> float:
        return float(np.quantile(self.members, q))

    def covered(self, level: float) -> bool:
        lo = self.quantile(0.5 - level / 2)
        hi = self.quantile(0.5 + level / 2)
        return lo <= self.obs.high and hi >= self.obs.low


def crps(members: np.ndarray, y: float) -> float:
    """Continuous ranked probability score of an ensemble (Gneiting & Raftery 2007).

    E|X − y| − ½ E|X − X'|, computed in O(n log n) from the sorted members.
    """
    x = np.sort(np.asarray(members, dtype=float))
    n = len(x)
    spread = 2.0 * np.sum(x * (2 * np.arange(1, n + 1) - n - 1)) / (n * n)
    return float(np.mean(np.abs(x - y)) - 0.5 * spread)


def averaged_relative_difference(points: Sequence[ForecastPoint], forecast) -> float:
    """Flee's measure over (origin, date) groups of points; ``forecast(p)`` gives the value."""
    groups: dict[tuple, list[ForecastPoint]] = defaultdict(list)
    for p in points:
        groups[(p.origin, last_day(p.obs))].append(p)
    ratios = [
        sum(abs(forecast(p) - p.observed) for p in g) / max(sum(p.observed for p in g), 1.0)
        for g in groups.values()
    ]
    return float(np.mean(ratios)) if ratios else float("nan")


SCORE_COLUMNS = (
    "points", "ard", "mae", "mae_persistence", "mae_trend", "mase_persistence", "mase_trend",
    "crps", "cover50", "cover90",
)  # fmt: skip


def score(points: Sequence[ForecastPoint]) -> dict[str, float]:
    """Every score of a set of points (NaN where nothing can be scored).

    MASE here is the model's MAE over the baseline's MAE on the points where the baseline
    exists (below 1: the model beats it).
    """
    nan = float("nan")
    if not points:
        return dict.fromkeys(SCORE_COLUMNS, nan) | {"points": 0}
    median = [float(np.median(p.members)) for p in points]
    y = np.array([p.observed for p in points])
    err = np.abs(np.array(median) - y)
    out = {
        "points": len(points),
        "ard": averaged_relative_difference(points, lambda p: float(np.median(p.members))),
        "mae": float(err.mean()),
        "crps": float(np.mean([crps(p.members, p.observed) for p in points])),
        "cover50": float(np.mean([p.covered(0.5) for p in points])),
        "cover90": float(np.mean([p.covered(0.9) for p in points])),
    }
    for name in ("persistence", "trend"):
        have = [i for i, p in enumerate(points) if getattr(p, name) is not None]
        if not have:
            out[f"mae_{name}"] = out[f"mase_{name}"] = nan
            continue
        base = np.array([abs(getattr(points[i], name) - y[i]) for i in have])
        out[f"mae_{name}"] = float(base.mean())
        model = float(err[have].mean())
        out[f"mase_{name}"] = model / float(base.mean()) if base.mean() > 1e-9 else nan
    return {k: out[k] for k in SCORE_COLUMNS}


def baselines(
    history: Sequence[ObservationRow], target: ObservationRow
) -> tuple[float | None, float | None]:
    """Persistence and naive-trend forecasts of ``target`` from the observations ``history``.

    Both use the same place and indicator; values are range midpoints, dated by the middle of
    their period (a day's figure by that day). The trend is clipped at zero: counts cannot go
    below it.
    """
    same = sorted(
        (
            (_middle(o), 0.5 * (o.low + o.high))
            for o in history
            if o.location == target.location and o.indicator == target.indicator
        ),
        key=lambda p: p[0],
    )
    if not same:
        return None, None
    persistence = same[-1][1]
    distinct = {}
    for t, v in same:
        distinct[t] = v
    if len(distinct) < 2:
        return persistence, None
    (t1, v1), (t2, v2) = sorted(distinct.items())[-2:]
    slope = (v2 - v1) / (t2 - t1)
    return persistence, max(0.0, v2 + slope * (_middle(target) - t2))


def _middle(o: ObservationRow) -> float:
    """The middle of an observation's period, as an ordinal day."""
    return 0.5 * (o.date.toordinal() + last_day(o).toordinal())
