"""How likely a reported range is, given a particle's simulated figure (interval likelihood).

A report says "between ``low`` and ``high``" about a figure (a day's value, or the mean or
maximum over a period). If the truth is the simulated figure x and the reported figure is x
times a relative error, log((y + 1)/(x + 1)) ~ N(0, σ²) with σ from the report's reliability
grade (``observation_error.toml``), the chance that the report lands in its range is
Φ((log(high + 1) − log(x + 1))/σ) − Φ((log(low + 1) − log(x + 1))/σ). Any figure inside the
range is then about equally likely, as the reporter meant, and figures outside fade smoothly.
"""

from __future__ import annotations

import math
import tomllib
from functools import cache
from pathlib import Path

import numpy as np
from scipy.special import log_ndtr

from borderflow.scenario.border_schema import ObservationRow

ERRORS_FILE = Path(__file__).with_name("observation_error.toml")


@cache
def grade_sd() -> dict[str, float]:
    """The error sd of each reliability grade (and ``default`` for a missing grade)."""
    return tomllib.loads(ERRORS_FILE.read_text(encoding="utf-8"))


def error_sd(o: ObservationRow) -> float:
    table = grade_sd()
    return float(table.get(o.reliability.strip().upper(), table["default"]))


def _log_diff_ndtr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log(Φ(b) − Φ(a)) for a < b, accurate far in either tail."""
    flip = a > 0  # Φ(b) − Φ(a) = Φ(−a) − Φ(−b): work where the values are not near 1
    hi = np.where(flip, -a, b)
    lo = np.where(flip, -b, a)
    lhi, llo = log_ndtr(hi), log_ndtr(lo)
    return lhi + np.log1p(-np.exp(np.minimum(llo - lhi, -1e-300)))


def log_likelihood(o: ObservationRow, x: np.ndarray, sd: np.ndarray | None = None) -> np.ndarray:
    """Log chance of the report ``o`` given each particle's simulated figure in ``x``.

    ``sd`` (broadcast with ``x``; default the grade's) lets :mod:`.model_error` add its own.
    """
    sd = error_sd(o) if sd is None else sd
    lx = np.log1p(np.asarray(x, dtype=float))
    low = math.log1p(o.low)
    high = math.log1p(o.high)
    if high - low < 1e-9:  # a point count: the density of the error, not a chance
        z = (high - lx) / sd
        norm = sd * math.sqrt(2 * math.pi)
        return -0.5 * z * z - (math.log(norm) if np.isscalar(norm) else np.log(norm))
    return _log_diff_ndtr((low - lx) / sd, (high - lx) / sd)


def report_draws(
    x: np.ndarray, o: ObservationRow, rng: np.random.Generator, n: int = 10
) -> np.ndarray:
    """What might be reported of each figure in ``x``: ``n`` draws (x + 1)·exp(σz) − 1 each.

    The law the filter weighs reports by, read forwards: a forecast of the *report* (what a
    field team will count) carries the reporter's error as well as the model's.
    """
    z = rng.standard_normal((len(x), n))
    return ((np.asarray(x, dtype=float)[:, None] + 1.0) * np.exp(error_sd(o) * z) - 1.0).ravel()
