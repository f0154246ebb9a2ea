"""Forecasts of a Flee scenario: its camp series weigh the particles, the cycle goes on."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from borderflow.errors import ScenarioError
from borderflow.execute import pool_executor
from borderflow.forecast import store
from borderflow.forecast.cycle import ForecastSpec, forecast
from scenario_factory import START, write_scenario

DAYS = 40
PRIORS = """
["location_weights.C1"]
dist = "lognormal"
median = 1.0
sigma = 0.7
why = "test"

["location_weights.C2"]
dist = "lognormal"
median = 1.0
sigma = 0.7
why = "test"
"""


def flee_scenario(root: Path) -> Path:
    """People leave A through B for two camps; C1 registers three times as many as C2."""
    folder = write_scenario(
        root,
        locations=[("A", "conflict_zone", 20000), ("B", "town", 1000),
                   ("C1", "camp", 100000), ("C2", "camp", 100000)],
        routes=[("A", "B", 100.0), ("B", "C1", 150.0), ("B", "C2", 150.0)],
        camp_series={"C1": [(d, 45 * d) for d in range(0, DAYS, 3)],
                     "C2": [(d, 15 * d) for d in range(0, DAYS, 3)]},
        days=DAYS,
    )  # fmt: skip
    (folder / "uncertain.toml").write_text(PRIORS)
    return folder


@pytest.mark.slow
def test_camp_counts_weigh_the_members_and_the_cycle_goes_on(tmp_path):
    folder = flee_scenario(tmp_path / "flee")
    origin = START + dt.timedelta(days=24)
    spec = ForecastSpec(folder, tmp_path / "out", members=16, seed=3, horizon=6)
    first = forecast(spec, origin)
    assert first.used > 0 and any(s.resampled for s in first.steps)
    assert first.model_error["reports"] == first.used  # every camp count was forecast first
    bands = pq.read_table(first.folder / "bands.parquet").to_pandas()
    today = bands[(bands.indicator == "present") & (bands.day == 24)].set_index("location")
    for camp, per_day in (("C1", 45), ("C2", 15)):  # the members agree with the counts
        assert abs(np.log1p(today.q50[camp]) - np.log1p(per_day * 24)) < 0.5, today.q50[camp]
    assert bands.day.max() == 24 + 6
    names = {p.name for p in first.folder.iterdir()}
    assert {"bands.parquet", "draws.csv", "assimilated.csv", store.PARTICLES} <= names
    assert len(list((first.folder / "members").glob("*.parquet"))) == 16
    later = forecast(spec, origin + dt.timedelta(days=6))
    assert later.parent == first.folder and 0 < later.new < later.used
    pooled = ForecastSpec(folder, tmp_path / "pool", members=16, seed=3, horizon=6,
                          executor=pool_executor(2))  # fmt: skip
    same = forecast(pooled, origin)
    for name in ("bands.parquet", "draws.csv"):
        assert (same.folder / name).read_bytes() == (first.folder / name).read_bytes(), name
    with pytest.raises(ScenarioError, match="take --move mcmc"):
        forecast(ForecastSpec(folder, tmp_path / "j", members=4, move="jitter"), origin)


@pytest.mark.slow
def test_borderflow_forecast_of_a_flee_scenario_on_the_command_line(tmp_path):
    folder = flee_scenario(tmp_path / "flee")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = tmp_path / "f"
    done = subprocess.run(
        [sys.executable, "-m", "borderflow", "forecast", str(folder), "--members", "6",
         "--origin", "2020-01-20", "--horizon", "4", "--out", str(out), "--workers", "2"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "weighed" in done.stdout and "refugees_in_camp" in done.stdout
    assert "model error (its forecasts of" in done.stdout
    assert (out / "origin-2020-01-20" / "bands.parquet").exists()
    bad = subprocess.run(
        [sys.executable, "-m", "borderflow", "forecast", str(folder), "--variant", "a=b"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert bad.returncode == 2 and "options of border cases" in bad.stderr
    assert "Traceback" not in bad.stderr
