"""The model's own error, measured on its own past forecasts: what widens a forecast's bands.

Why: the members hold what the model does not know (its parameters, chance), not what it gets
wrong: a crowd that thins on a rumour the model has no mechanism for, a camp that keeps filling
when the model says it empties. In the replay of the episodes the members' 90 % intervals held
two thirds of the next days' reports (docs/forecasting.md): too sure of themselves, as every
ensemble without a model-error term. Operational forecasters estimate that term from the
forecast's own record (adaptive inflation from the innovations, as in weather data
assimilation). So here: each time the filter weighs a report, it first scores how likely that
report was under its forecast of it (the weighted particles before weighing), for every value q
on a grid of a model error that grows as a random walk: log((true + 1)/(model + 1)) ~ N(0, q·d),
d the days since the filter last weighed reports, on top of the report's own error (its grade,
as in :mod:`.likelihood`). These log chances are summed over every report weighed so far and
kept with the particles; the q that makes them most likely widens the bands from the day of the
last report on, by √(q·d) on the log scale. Only reports known at the origin ever enter it, as a
forecaster on that day would know them; a case whose model has met its reports gets q = 0 and
bands that are the members' own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
from scipy.special import logsumexp

from borderflow.forecast.likelihood import error_sd, log_likelihood
from borderflow.scenario.border_schema import ObservationRow

# Variances per day on the log scale: none, then sd per day from 1 % to 100 %
GRID = np.concatenate([[0.0], np.geomspace(1e-4, 1.0, 41)])
DRAWS = 10  # draws of the model's error per member in a band


@dataclass
class ModelError:
    """The record of the filter's forecasts of the reports it weighed (its innovations)."""

    loglik: np.ndarray = field(default_factory=lambda: np.zeros(len(GRID)))  # summed over reports
    reports: int = 0
    last_day: int = -1  # the day the filter last weighed reports (-1: never)

    def record(
        self, day: int, x: np.ndarray, w: np.ndarray, reports: list[ObservationRow], weights
    ) -> None:
        """Score the reports of ``day`` under the particles' figures before weighing.

        ``x``: particles × reports, ``w`` the particles' weights; each report counts
        ``weights[j]``, as in the filter's likelihood.
        """
        lead = day - self.last_day
        log_w = np.log(np.maximum(w, 1e-300))[:, None]
        for j, (o, wt) in enumerate(zip(reports, weights, strict=True)):
            sd = np.sqrt(error_sd(o) ** 2 + GRID * lead)[None, :]
            ll = log_likelihood(o, x[:, j][:, None], sd)  # particles × grid
            self.loglik = self.loglik + wt * logsumexp(ll + log_w, axis=0)
            self.reports += 1
        self.last_day = day

    @property
    def q(self) -> float:
        """The most likely variance per day (the smallest of ties; 0 before any report)."""
        if self.reports == 0:
            return 0.0
        return float(GRID[int(np.argmax(self.loglik))])

    def sd(self, days: np.ndarray) -> np.ndarray:
        """The error's sd on the log scale on each of ``days`` (0 up to the last report)."""
        return np.sqrt(self.q * np.clip(np.asarray(days, dtype=float) - self.last_day, 0, None))

    def summary(self, start: dt.date) -> dict:
        """What a forecast's manifest says of it (``start``: the case's day 0)."""
        last = start + dt.timedelta(days=self.last_day) if self.last_day >= 0 else None
        return {
            "variance_per_day": self.q,
            "reports": self.reports,
            "last_report_day": last.isoformat() if last else None,
        }


def widen(values: np.ndarray, sd: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """:data:`DRAWS` draws (v + 1)·exp(sd·z) − 1 of each member's value (members × rows).

    Returns (members · DRAWS) × rows: the members with the model's error about them.
    """
    values = np.asarray(values, dtype=float)
    z = rng.standard_normal((values.shape[0], DRAWS, values.shape[1]))
    out = (values[:, None, :] + 1.0) * np.exp(np.asarray(sd, dtype=float) * z) - 1.0
    return np.maximum(out, 0.0).reshape(-1, values.shape[1])


@dataclass(frozen=True)
class Widening:
    """Bands of the members with the model's error about them (the same draws on every call)."""

    error: ModelError
    seed: tuple[int, ...]

    def bands(
        self, values: np.ndarray, days: np.ndarray, quantiles
    ) -> tuple[np.ndarray, np.ndarray]:
        """Quantiles (quantiles × rows) and mean of ``values`` (members × rows, on ``days``).

        Rows up to the last report keep the members' own quantiles; the rest are taken over
        the members' draws, a thousand rows at a time (memory).
        """
        values = np.asarray(values, dtype=float)
        bands = np.quantile(values, quantiles, axis=0)
        mean = values.mean(axis=0)
        sd = self.error.sd(days)
        wide = np.flatnonzero(sd > 0)
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(list(self.seed))))
        for chunk in np.array_split(wide, max(1, -(-len(wide) // 1000))):
            if len(chunk):
                draws = widen(values[:, chunk], sd[chunk], rng)
                bands[:, chunk] = np.quantile(draws, quantiles, axis=0)
                mean[chunk] = draws.mean(axis=0)
        return bands, mean
