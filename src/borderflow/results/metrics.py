"""Validation scores of a Flee-style run against observed camp counts.

* ``error_rescaled`` / ``error_normal``: Flee's "averaged relative difference" (the figure
  FabFlee's ``validate_flee`` reports): per day, Σ_c |sim_c − data_c| / Σ_c data_c with the
  simulated camps first rescaled to the observed camp total, then averaged over days.
* MASE: mean absolute error of the rescaled simulation over the mean absolute error of a naive
  forecast that holds the value observed on day k (persistence from day k), over days after k;
  camp scores are weighted by each camp's observed total, as Flee's scripts weight them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from borderflow.results.flee_out import CampSeries, read_out_csv


def rescaled(sim: np.ndarray, data: np.ndarray) -> np.ndarray:
    """Simulated camp counts scaled so that each day's camp total equals the observed one."""
    u = data.sum(axis=1)
    s = sim.sum(axis=1)
    factor = np.divide(u, s, out=np.zeros_like(u, dtype=float), where=s > 0)
    return sim * factor[:, None]


def averaged_relative_difference(sim: np.ndarray, data: np.ndarray) -> float:
    """Mean over days of Σ_c round(|sim − data|, 4) / max(Σ_c data, 1)."""
    diff = np.round(np.abs(sim - data), 4).sum(axis=1)
    return float(np.mean(diff / np.maximum(data.sum(axis=1), 1.0)))


def mase(sim: np.ndarray, data: np.ndarray, k: int) -> float:
    """Observed-total-weighted MASE of ``sim`` against persistence from day ``k`` (NaN if none)."""
    days = data.shape[0]
    if days <= k + 1:
        return float("nan")
    scores, weights = [], []
    for c in range(data.shape[1]):
        naive_err = np.abs(data[k + 1 :, c] - data[k, c]).sum() / (days - k - 1)
        if naive_err <= 0:
            continue
        model_err = np.abs(data[:, c] - sim[:, c]).mean()
        scores.append(model_err / naive_err)
        weights.append(data[:, c].sum())
    if not scores or sum(weights) <= 0:
        return float("nan")
    return float(np.average(scores, weights=weights))


def scores(series: CampSeries) -> dict[str, float]:
    sim_r = rescaled(series.sim, series.data)
    return {
        "error_rescaled": averaged_relative_difference(sim_r, series.data),
        "error_normal": averaged_relative_difference(series.sim, series.data),
        "mase_7": mase(sim_r, series.data, 7),
        "mase_30": mase(sim_r, series.data, 30),
    }


def validation_scores(out_csv: str | Path) -> dict[str, float]:
    """Scores of an ``out.csv`` (borderflow's or Flee's)."""
    return scores(read_out_csv(Path(out_csv)))
