"""The model's error measured on the filter's own forecasts: none when the model meets its
reports, the right size when it drifts, and bands widened only after the last report."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from borderflow.ensemble.runner import QUANTILES
from borderflow.forecast import store
from borderflow.forecast.cycle import ForecastSpec, forecast
from borderflow.forecast.model_error import GRID, ModelError, Widening
from borderflow.scenario.border_schema import ObservationRow
from test_forecast import ORIGIN, START, synthetic_case, truth_reports, write_reports


def _report(low: float, high: float, grade: str = "A") -> ObservationRow:
    return ObservationRow(
        date=START, location="A", indicator="stranded", low=low, high=high, reliability=grade
    )


def _record(error: ModelError, day: int, x: np.ndarray, o: ObservationRow) -> None:
    error.record(day, x[:, None], np.full(len(x), 1 / len(x)), [o], [1.0])


def test_a_model_that_meets_its_reports_adds_no_error():
    rng = np.random.default_rng(1)
    error = ModelError()
    for day in range(2, 60, 3):
        x = 500 * np.exp(0.05 * rng.standard_normal(40))
        _record(error, day, x, _report(450, 560, "B"))
    assert error.reports == 20 and error.last_day == 59
    assert error.q == 0.0
    assert np.all(error.sd(np.arange(100)) == 0.0)


@pytest.mark.parametrize("q_true", [0.004, 0.05])
def test_the_error_of_a_drifting_model_is_recovered(q_true):
    """Reports of a truth that leaves the model by a random walk of variance q a day."""
    rng = np.random.default_rng(7)
    error, day = ModelError(), -1
    for _ in range(400):
        lead = int(rng.integers(1, 5))
        day += lead
        x = 1000 * np.exp(0.01 * rng.standard_normal(50))
        truth = 1000 * np.exp(np.sqrt(q_true * lead) * rng.standard_normal())
        _record(error, day, x, _report(0.99 * truth, 1.01 * truth))
    assert q_true / 1.6 < error.q < q_true * 1.6
    assert error.sd(np.array([day, day + 4]))[1] == pytest.approx(2 * np.sqrt(error.q))


def test_bands_widen_after_the_last_report_only():
    error = ModelError(loglik=-((GRID - 0.01) ** 2), reports=3, last_day=5)
    assert error.q == pytest.approx(0.01, rel=0.15)
    rng = np.random.default_rng(3)
    values = 100 + 10 * rng.standard_normal((30, 10))
    days = np.arange(10)
    bands, mean = Widening(error, (0, 1)).bands(values, days, QUANTILES)
    own = np.quantile(values, QUANTILES, axis=0)
    assert np.array_equal(bands[:, :6], own[:, :6]) and np.array_equal(mean[:6], values.mean(0)[:6])
    width, own_width = bands[-1] - bands[0], own[-1] - own[0]
    assert np.all(width[6:] > own_width[6:])
    assert width[9] > width[6]  # the error grows with the days since the last report
    again, _ = Widening(error, (0, 1)).bands(values, days, QUANTILES)
    assert np.array_equal(bands, again)


def _bands_after(folder, origin_day: int):
    table = pq.read_table(folder / "bands.parquet").to_pandas()
    return table[(table.location == "A") & (table.indicator == "stranded")].set_index("day")


@pytest.mark.slow
def test_a_forecast_carries_the_error_its_reports_show(tmp_path):
    """The same reports, then the reports of a truth drifting away from any member: the second
    forecast measures a model error, says so in its manifest, and widens its bands with it."""
    case_dir = synthetic_case(tmp_path / "case")
    rows = truth_reports(case_dir, every=3)[0]
    write_reports(case_dir, rows)
    origin = START + dt.timedelta(days=ORIGIN)
    right = forecast(ForecastSpec(case_dir, tmp_path / "right", members=24, seed=2), origin)
    rng = np.random.default_rng(0)
    walk = np.exp(np.cumsum(0.25 * rng.standard_normal(len(rows))))
    drifting = [
        o.model_copy(update={"low": round(o.low * f), "high": round(o.high * f)})
        for o, f in zip(rows, walk, strict=True)
    ]
    write_reports(case_dir, drifting)
    wrong = forecast(ForecastSpec(case_dir, tmp_path / "wrong", members=24, seed=2), origin)
    manifest = json.loads((wrong.folder / store.MANIFEST).read_text())
    assert manifest["model_error"] == wrong.model_error
    assert wrong.model_error["reports"] == right.model_error["reports"] == wrong.used
    assert wrong.model_error["variance_per_day"] > max(right.model_error["variance_per_day"], 1e-3)
    last = dt.date.fromisoformat(wrong.model_error["last_report_day"])
    assert last <= origin
    day = (origin - START).days + 5
    band = _bands_after(wrong.folder, day).loc[day]
    members = np.array(
        [
            pq.read_table(f).to_pandas().query("location == 'A' and indicator == 'stranded'")
            .set_index("day").loc[day, "value"]
            for f in sorted((wrong.folder / "members").glob("*.parquet"))
        ]
    )  # fmt: skip
    assert band.q95 - band.q05 > np.ptp(np.quantile(members, [0.05, 0.95]))
