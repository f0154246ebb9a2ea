"""Outputs of a run: Flee's out.csv, the tidy Parquet table, validation scores, compat modes."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest

from borderflow.results.flee_out import CampSeries, read_out_csv, write_out_csv
from borderflow.results.metrics import averaged_relative_difference, mase, rescaled, scores
from borderflow.runs import run_flee
from borderflow.scenario.flee_io import read_flee_scenario
from borderflow.scenario.locate import builtin_root

MALI = builtin_root() / "flee" / "mali"


def series(days: int = 5, offset: int = 1) -> CampSeries:
    sim = np.array([[10, 0], [20, 5], [30, 10], [25, 20], [30, 30]])[:days]
    data = np.array([[12, 0], [18, 6], [30, 12], [30, 15], [28, 33]])[:days]
    return CampSeries(
        start_date=dt.date(2020, 1, 1),
        camps=("Camp A", "Camp B"),
        sim=sim,
        data=data,
        n_agents=sim.sum(axis=1) + 3,
        raw=data.sum(axis=1) + 100,
        debt=np.zeros(days, dtype=int),
        date_offset=offset,
    )


def test_out_csv_round_trip_and_flee_columns(tmp_path):
    s = series()
    path = tmp_path / "out.csv"
    write_out_csv(s, path)
    header = path.read_text().splitlines()[0].split(",")
    assert header[:5] == ["Day", "Date", "Camp A sim", "Camp A data", "Camp A error"]
    assert header[-6:] == [
        "Total error",
        "refugees in camps (UNHCR)",
        "total refugees (simulation)",
        "raw UNHCR refugee count",
        "refugees in camps (simulation)",
        "refugee_debt",
    ]
    first = path.read_text().splitlines()[1].split(",")
    assert first[1] == "2020-01-02"  # Flee prints StartDate + t + 1
    assert float(first[4]) == round(abs(10 / 12 - 1), 4)
    assert float(first[8]) == pytest.approx((2 + 0) / 112)
    back = read_out_csv(path)
    assert back.camps == s.camps
    np.testing.assert_array_equal(back.sim, s.sim)
    np.testing.assert_array_equal(back.data, s.data)
    np.testing.assert_array_equal(back.n_agents, s.n_agents)


def test_flee31_dates_rows_on_the_day(tmp_path):
    write_out_csv(series(offset=0), tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_text().splitlines()[1].split(",")[1] == "2020-01-01"


def test_averaged_relative_difference_by_hand():
    s = series()
    expected = np.mean(
        [
            (2 + 0) / 12,
            (2 + 1) / 24,
            (0 + 2) / 42,
            (5 + 5) / 45,
            (2 + 3) / 61,
        ]
    )
    assert averaged_relative_difference(s.sim, s.data) == pytest.approx(expected)
    r = rescaled(s.sim, s.data)
    np.testing.assert_allclose(r.sum(axis=1), s.data.sum(axis=1))
    sc = scores(s)
    assert sc["error_normal"] == pytest.approx(expected)
    assert sc["error_rescaled"] == pytest.approx(averaged_relative_difference(r, s.data))


def test_mase_against_persistence():
    data = np.array([[0.0], [10], [20], [30], [40]])
    perfect = data.copy()
    assert mase(perfect, data, 1) == 0.0
    # persistence from day 1 (value 10) errs 10, 20, 30 on days 2..4: mean 20
    lagged = np.array([[0.0], [0], [10], [20], [30]])
    assert mase(lagged, data, 1) == pytest.approx((0 + 10 + 10 + 10 + 10) / 5 / 20)
    assert np.isnan(mase(perfect, data, 4))


def test_run_folder_contents(tmp_path):
    out = tmp_path / "run"
    result = run_flee(MALI, seed=2, days=30, out_dir=out)
    assert sorted(p.name for p in out.iterdir()) == ["out.csv", "run.json", "series.parquet"]
    table = pq.read_table(out / "series.parquet")
    assert table.column_names == ["day", "date", "location", "indicator", "value"]
    df = table.to_pydict()
    n_places = 23
    n_camps = len(result.camps.camps)
    assert table.num_rows == 30 * (n_places + n_camps + 4)
    present = [
        (d, loc, v)
        for d, loc, ind, v in zip(
            df["day"], df["location"], df["indicator"], df["value"], strict=True
        )
        if ind == "present" and loc == "Fassala-Mbera"
    ]
    k = result.camps.camps.index("Fassala-Mbera")
    assert [v for _, _, v in present] == [float(x) for x in result.camps.sim[:, k]]
    assert df["date"][0] == dt.date(2012, 2, 29)
    meta = json.loads((out / "run.json").read_text())
    assert meta["seed"] == 2 and meta["days"] == 30 and meta["ruleset"] == "flee"
    assert meta["scores"]["error_rescaled"] == pytest.approx(result.scores["error_rescaled"])


def test_flee31_profile_spawns_from_the_total_series():
    r = run_flee(MALI, seed=1, compatibility="3.1")
    total = read_flee_scenario(MALI).series[0]
    # Flee 3.1 ends Mali with 148,063 agents: day-0 camps + total(299) - total(0) + debt
    assert int(r.camps.n_agents[-1]) == 148_063
    np.testing.assert_array_equal(r.camps.raw, total.daily(300))
    head = run_flee(MALI, seed=1)
    assert int(head.camps.n_agents[-1]) == 89_991


@pytest.mark.slow
def test_validate_cli_matches_run_scores(tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "COLUMNS": "200"}
    cmd = [sys.executable, "-m", "borderflow", "run", str(MALI), "--days", "40", "--out", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    res = subprocess.run(
        [sys.executable, "-m", "borderflow", "validate", str(out)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    meta = json.loads((out / "run.json").read_text())
    line = next(x for x in res.stdout.splitlines() if x.startswith("Error (rescaled):"))
    assert float(line.split(":")[1]) == pytest.approx(meta["scores"]["error_rescaled"], abs=1e-4)
    assert "MASE (persistence from day 7)" in res.stdout
