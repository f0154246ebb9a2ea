"""The built-in Chile–Peru cases end to end: they run, and they reproduce what was observed."""

from __future__ import annotations

import numpy as np
import pytest

from borderflow.calibrate.grid import current_values, fit_case, simulated
from borderflow.rules.border import BorderModel
from borderflow.rules.border_indicators import CrossingCount as C
from borderflow.runs import run_border
from borderflow.scenario.border_io import read_border_case
from borderflow.scenario.locate import resolve_scenario

pytestmark = pytest.mark.slow  # every test runs whole scenarios

CASES = ("chile-peru-2025", "chile-peru-2023")
SEEDS = (0, 1, 2)
TOLERANCE = 0.10  # a simulated figure may sit this far (relative) outside a reported range


def stranded(m: BorderModel, crossing: str = "Chacalluta-Santa Rosa") -> np.ndarray:
    return m.at_crossing[:, m.crossing_names.index(crossing), C.STRANDED]


def day(m: BorderModel, iso: str) -> int:
    return (np.datetime64(iso) - np.datetime64(m.start_date)).astype(int)


@pytest.fixture(scope="module", params=CASES)
def runs(request):
    case = read_border_case(resolve_scenario(request.param))
    return case, [BorderModel(case, seed).run() for seed in SEEDS]


def test_every_observation_is_reproduced_on_average(runs):
    """Each reported range (one night, a period's mean or peak) holds the seeds' mean."""
    case, models = runs
    checked = 0
    for o in case.observations:
        values = [simulated(m.result(), o) for m in models]
        if values[0] is None:
            continue
        v = float(np.mean(values))
        low, high = o.low * (1 - TOLERANCE), o.high * (1 + TOLERANCE)
        assert low <= v <= high, f"{o.date} {o.stat} {o.indicator}: {v:.1f} not in {o.low}-{o.high}"
        checked += 1
    assert checked >= 4


def test_2025_grounding_before_the_origin():
    case = read_border_case(resolve_scenario("chile-peru-2025"))
    for seed in SEEDS:
        m = BorderModel(case, seed).run()
        s = stranded(m)
        week = s[day(m, "2025-11-18") : day(m, "2025-11-26")]
        assert 20 <= week.mean() <= 30
        assert s[day(m, "2025-11-26")] > 100 and s[day(m, "2025-11-27")] > 100


def test_2023_episode_magnitude_and_duration():
    case = read_border_case(resolve_scenario("chile-peru-2023"))
    means, peaks, long_days = [], [], []
    for seed in SEEDS:
        m = BorderModel(case, seed).run()
        s = stranded(m)
        episode = s[day(m, "2023-04-13") : day(m, "2023-05-15")]
        means.append(episode.mean())
        peaks.append(episode.max())
        long_days.append(int((s >= 50).sum()))
        # cleared on 15 May: from then on only a day's new arrivals are at the line each
        # evening, before they too are taken to shelters
        assert s[day(m, "2023-05-16") :].max() <= 50
        assert s[: day(m, "2023-04-10")].max() <= 60  # quiet before ~12 April
    assert 150 * 0.9 <= np.mean(means) <= 200 * 1.1
    assert 350 * 0.9 <= np.mean(peaks) <= 480
    # about a month (12-13 Apr to 15 May) with more than a night's arrivals at the line
    assert 25 <= np.mean(long_days) <= 40


@pytest.mark.parametrize("name", CASES)
def test_case_holds_its_fitted_values(name):
    """scenario.toml holds a best point of the case's documented grid (fit.toml).

    Points can tie (every observation inside its range scores 0), and then any of them is
    the case's fit.
    """
    case, fit, points = fit_case(resolve_scenario(name))
    best = [p.values for p in points if p.loss == points[0].loss]
    now = current_values(case, list(fit.grid))
    assert any(values == pytest.approx(now) for values in best), (now, best)


@pytest.mark.parametrize("name", CASES)
def test_run_folder_of_each_case(tmp_path, name):
    out = tmp_path / "run"
    result = run_border(resolve_scenario(name), out_dir=out)
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "flows.png",
        "map.png",
        "observed.json",
        "run.json",
        "series.csv",
        "series.parquet",
        "stranded.png",
        "summary.json",
    ]
    lines = (out / "series.csv").read_text().splitlines()
    assert lines[0] == "date,location,indicator,value"
    assert lines[1] == "#date,#loc+name,#indicator+code,#indicator+value+num"
    indicators = {line.split(",")[2] for line in lines[2:]}
    for needed in (
        "departed",
        "arrived",
        "crossed",
        "refused",
        "stranded",
        "irregular_crossing",
        "returned",
        "people",
        "children",
        "shelter_m2",
        "water_l",
        "food_kcal",
        "latrines",
    ):
        assert needed in indicators
    assert result.summary[0].crossing == "Chacalluta-Santa Rosa"
    assert result.summary[0].peak_stranded > 0
