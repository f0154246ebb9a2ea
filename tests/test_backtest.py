"""Forecast scores, Flee calibration problems and the rolling-origin backtest."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import numpy as np
import pytest

from borderflow.calibrate.abc import abc_smc
from borderflow.calibrate.backtest import (
    BacktestSettings,
    backtest,
    default_origins,
    score_table,
    write_backtest,
)
from borderflow.calibrate.predictive import (
    ErrorModel,
    anchored_keys,
    log_error,
    run_members,
    with_error,
)
from borderflow.calibrate.problem import CAMP_INDICATOR, FleeProblem, opening_day
from borderflow.calibrate.scoring import ForecastPoint, baselines, crps, score
from borderflow.ensemble.params import LogNormal, PosteriorSampler, read_uncertain
from borderflow.errors import ScenarioError
from borderflow.execute import serial_executor
from borderflow.results.metrics import averaged_relative_difference as flee_ard
from borderflow.rules.flee import FleeModel
from borderflow.scenario.border_schema import ObservationRow
from borderflow.scenario.flee_io import read_closures
from scenario_factory import START, write_scenario

D = dt.date(2020, 1, 1)


def obs(day: int, low: float, high: float | None = None, place: str = "P", **kw):
    return ObservationRow(date=D + dt.timedelta(days=day), location=place, indicator="x",
                          low=low, high=low if high is None else high, **kw)  # fmt: skip


# -- scores ------------------------------------------------------------------------------------
def test_crps_matches_its_definition():
    rng = np.random.default_rng(0)
    x = rng.normal(10, 3, size=41)
    y = 12.5
    brute = np.mean(np.abs(x - y)) - 0.5 * np.mean(np.abs(x[:, None] - x[None, :]))
    assert crps(x, y) == pytest.approx(brute, rel=1e-12)
    assert crps(np.array([7.0]), 10.0) == pytest.approx(3.0)  # one member: absolute error
    assert crps(np.full(5, 10.0), 10.0) == pytest.approx(0.0)


def test_coverage_of_ranges_and_points():
    members = np.linspace(0, 100, 101)  # 5 % quantile 5, 95 % quantile 95
    overlapping = ForecastPoint(D, obs(1, 94, 120), members, None, None)
    beyond = ForecastPoint(D, obs(1, 96, 120), members, None, None)
    assert overlapping.quantile(0.95) == pytest.approx(95.0)
    assert overlapping.covered(0.9) and not beyond.covered(0.9) and beyond.covered(0.99)
    assert ForecastPoint(D, obs(1, 50), members, None, None).covered(0.5)
    assert not ForecastPoint(D, obs(1, 80), members, None, None).covered(0.5)


def test_baselines_persistence_and_trend():
    history = [obs(0, 10), obs(10, 20), obs(10, 20, place="Q")]
    persistence, trend = baselines(history, obs(15, 0))
    assert persistence == 20 and trend == pytest.approx(25)
    # a falling trend is clipped at zero; a single point gives persistence only
    assert baselines([obs(0, 20), obs(10, 10)], obs(40, 0))[1] == 0.0
    assert baselines([obs(0, 20)], obs(5, 0)) == (20, None)
    assert baselines(history, obs(5, 0, place="R")) == (None, None)


def test_scores_on_known_points():
    pts = [
        ForecastPoint(D, obs(1, 10), np.full(9, 12.0), 10.0, 14.0),
        ForecastPoint(D, obs(1, 30, place="Q"), np.full(9, 27.0), 20.0, None),
    ]
    s = score(pts)
    assert s["points"] == 2
    assert s["mae"] == pytest.approx(2.5)
    assert s["ard"] == pytest.approx((2 + 3) / 40)  # one date: Σ|f − y| / Σ y
    assert s["mae_persistence"] == pytest.approx(5.0)
    assert s["mase_persistence"] == pytest.approx(0.5)
    assert s["mase_trend"] == pytest.approx(2 / 4)  # only where a trend exists
    assert s["crps"] == pytest.approx(2.5)
    assert s["cover90"] == 0.0


def test_ard_is_flees_measure_on_camp_series():
    rng = np.random.default_rng(1)
    sim = rng.uniform(0, 100, size=(6, 3))
    data = rng.uniform(1, 100, size=(6, 3))
    pts = [
        ForecastPoint(D, obs(d, data[d, c], place=f"c{c}"), np.array([sim[d, c]]), None, None)
        for d in range(6)
        for c in range(3)
    ]
    assert score(pts)["ard"] == pytest.approx(flee_ard(sim, data), rel=1e-6)


def test_error_model_keeps_counts_non_negative_and_matches_its_sd():
    draws = with_error(np.full(4000, 99.0), 0.3, seed=1).ravel()
    assert draws.min() >= 0
    assert np.std(np.log(draws + 1)) == pytest.approx(0.3, rel=0.05)
    np.testing.assert_array_equal(with_error(np.array([5.0]), 0.0, 1).ravel(), [5.0])


# -- a small Flee scenario ---------------------------------------------------------------------
def flee_scenario(tmp_path, days=40):
    return write_scenario(
        tmp_path / "flee",
        locations=[("A", "conflict_zone", 20000), ("B", "town", 1000),
                   ("C1", "camp", 100000), ("C2", "camp", 100000)],
        routes=[("A", "B", 100.0), ("B", "C1", 150.0), ("B", "C2", 150.0)],
        camp_series={c: [(d, 1500 * d // (days - 1)) for d in (*range(0, days - 1, 5), days - 1)]
                     for c in ("C1", "C2")},
        days=days,
    )  # fmt: skip


def simulated_rows(problem: FleeProblem, values: dict, seed: int, every: int = 3):
    sim = problem.simulate(values, seed, problem.days - 1)
    rows = []
    for camp in ("C1", "C2"):
        series = sim.daily(camp, CAMP_INDICATOR)
        for d in range(2, problem.days, every):
            rows.append(ObservationRow(date=START + dt.timedelta(days=d), location=camp,
                                       indicator=CAMP_INDICATOR, low=float(series[d]),
                                       high=float(series[d])))  # fmt: skip
    return rows


@pytest.mark.slow
def test_location_weights_draw_people_and_are_validated(tmp_path):
    problem = FleeProblem.load(flee_scenario(tmp_path))
    even = problem.simulate({}, 0, problem.days - 1)
    heavy = problem.simulate({"location_weights.C1": 4.0}, 0, problem.days - 1)
    c1 = lambda s: s.daily("C1", CAMP_INDICATOR)[-1] / max(s.daily("C2", CAMP_INDICATOR)[-1], 1)  # noqa: E731
    assert c1(heavy) > 2 * c1(even)
    with pytest.raises(ScenarioError, match="not a parameter"):
        problem.settings_with({"location_weights.Nowhere": 2.0})
    bad = problem.settings_with({"location_weights.C1": 1.0}).model_copy(
        update={"location_weights": {"Nowhere": 2.0}}
    )
    with pytest.raises(ScenarioError, match="not a location"):
        FleeModel(problem.scenario, bad, 0)


def test_set_counts_starts_from_the_observed_state(tmp_path):
    problem = FleeProblem.load(flee_scenario(tmp_path))
    model = FleeModel(problem.scenario, problem.settings, 0).run(until=20)
    before = len(model.agents)
    model.set_counts(20, {"C1": 5, "C2": model.count[model.index["C2"]] + 30})
    a = model.agents
    for name in ("C1", "C2"):
        i = model.index[name]
        here = int(np.count_nonzero((a.loc == i) & (a.link < 0)))
        assert here == model.count[i]
    assert model.count[model.index["C1"]] == 5
    assert len(a) == before - (model.history[20, model.index["C1"]] - 5) + 30
    # the forecast started at day 20 holds the observed counts there
    rows = simulated_rows(problem, {}, seed=4)
    fit = problem.with_observations(rows).restrict(START + dt.timedelta(days=20))
    sim = fit.simulate({}, 0, 25, origin=20)
    for camp, count in fit.origin_counts(20).items():
        assert sim.daily(camp, CAMP_INDICATOR)[20] == count


@pytest.mark.slow
def test_abc_recovers_a_camp_weight_from_data_simulated_with_it(tmp_path):
    root = flee_scenario(tmp_path)
    (root / "uncertain.toml").write_text(
        '["location_weights.C1"]\ndist = "lognormal"\nmedian = 1.0\nsigma = 1.0\nwhy = "t"\n'
    )
    problem = FleeProblem.load(root)
    truth = 3.0
    problem = problem.with_observations(simulated_rows(problem, {"location_weights.C1": truth}, 9))
    priors = read_uncertain(problem.priors_path(), problem)
    assert isinstance(priors["location_weights.C1"], LogNormal)
    post = abc_smc(problem, priors, particles=40, generations=4, seed=2, workers=2)
    q05, q95 = post.quantiles([0.05, 0.95])[:, 0]
    assert q05 <= truth <= q95
    assert q95 / q05 < np.exp(2 * 1.645 * 1.0) / 2  # at least twice narrower than the prior


# -- the backtest ------------------------------------------------------------------------------
@pytest.mark.slow
def test_backtest_forecasts_and_scores_each_origin(tmp_path):
    root = flee_scenario(tmp_path)
    (root / "uncertain.toml").write_text(
        '["location_weights.C1"]\ndist = "lognormal"\nmedian = 1.0\nsigma = 0.5\nwhy = "t"\n'
        '["move_rules.default_movechance"]\ndist = "fixed"\nvalue = 0.3\nwhy = "t"\n'
    )
    problem = FleeProblem.load(root)
    problem = problem.with_observations(simulated_rows(problem, {"location_weights.C1": 2.0}, 5))
    priors = read_uncertain(problem.priors_path(), problem)
    origins = default_origins(problem, horizon=9, count=2)
    assert len(origins) == 2 and origins[0] < origins[1]
    settings = BacktestSettings(horizon=9, particles=12, generations=2, members=6, seed=1)
    a = backtest(problem, priors, origins, settings, executor=serial_executor())
    for r in a:
        assert r.points, "every origin has observations after it"
        assert all(r.origin < p.obs.date <= r.origin + dt.timedelta(days=9) for p in r.points)
        assert r.errors.pooled >= 0 and r.errors.points > 0  # fitted on hindcast points
    table = score_table(a)
    assert [row["origin"] for row in table] == [*(str(o) for o in origins), "all"]
    assert table[-1]["points"] == sum(len(r.points) for r in a)
    assert 0 <= table[-1]["cover90"] <= 1 and np.isfinite(table[-1]["crps"])
    # the same seed gives the same forecasts, on any executor
    b = backtest(problem, priors, origins, settings, executor=None)
    for ra, rb in zip(a, b, strict=True):
        np.testing.assert_array_equal(ra.runs.values, rb.runs.values)
    files = write_backtest(a, problem, tmp_path / "bt")
    assert [f.name for f in files] == ["scores.csv", "points.csv", "posteriors.csv",
                                       "backtest.png"]  # fmt: skip
    lines = (tmp_path / "bt" / "points.csv").read_text().splitlines()
    assert lines[1].startswith("#date+origin") and len(lines) == 2 + table[-1]["points"]


def test_error_scale_comes_from_before_the_origin(tmp_path):
    problem = FleeProblem.load(flee_scenario(tmp_path))
    rows = simulated_rows(problem, {}, 3)
    problem = problem.with_observations(rows)
    sampler = PosteriorSampler(["move_rules.default_movechance"], np.array([[0.3]]), np.ones(1))
    keys = [("C1", CAMP_INDICATOR), ("C2", CAMP_INDICATOR)]
    runs = run_members(problem, sampler, keys, members=3, until=30, origin=None, seed=0,
                       executor=serial_executor())  # fmt: skip
    model = log_error(runs, rows, after=START + dt.timedelta(days=10))
    window = [o for o in rows if 10 < (o.date - START).days <= 30]  # after 10, simulated
    assert model.points == len(window) and model.pooled >= 0
    assert set(model.by_key) == {("C1", CAMP_INDICATOR), ("C2", CAMP_INDICATOR)}
    assert model.sigma(("C9", CAMP_INDICATOR)) == model.pooled
    # moving the truth moves the error
    shifted = [o.model_copy(update={"low": o.low * 2 + 5, "high": o.high * 2 + 5}) for o in rows]
    assert log_error(runs, shifted, after=START).pooled > model.pooled


def test_error_model_pools_series_that_were_empty_at_the_start_apart(tmp_path):
    problem = FleeProblem.load(flee_scenario(tmp_path))
    rows = simulated_rows(problem, {}, 3)
    sampler = PosteriorSampler(["move_rules.default_movechance"], np.array([[0.3]]), np.ones(1))
    c1, c2 = ("C1", CAMP_INDICATOR), ("C2", CAMP_INDICATOR)
    runs = run_members(problem, sampler, [c1, c2], members=3, until=30, origin=None, seed=0,
                       executor=serial_executor())  # fmt: skip
    # C2 observed ten times too high: a camp the run never saw filling
    rows = [o if o.location == "C1" else o.model_copy(update={"low": o.low * 10 + 50,
            "high": o.high * 10 + 50}) for o in rows]  # fmt: skip
    after = START + dt.timedelta(days=10)
    together = log_error(runs, rows, after=after)
    apart = log_error(runs, rows, after=after, anchored=frozenset({c1}))
    assert apart.points == together.points
    assert apart.by_key == {c1: together.by_key[c1]}
    assert apart.pooled == pytest.approx(together.by_key[c1])  # C1's points only
    assert apart.opening == pytest.approx(together.by_key[c2]) and apart.opening > apart.pooled
    assert apart.sigma(c2) == apart.pooled  # anchored at the origin: the anchored pool
    assert apart.sigma(c2, anchored=False) == apart.opening
    assert apart.sigma(c1, anchored=False) == apart.opening
    # a pool with nothing in it falls back to the other
    assert ErrorModel(float("nan"), {}, 4, 0.7).sigma(c1) == 0.7
    assert ErrorModel(0.2, {}, 4).sigma(c1, anchored=False) == 0.2


def test_error_model_adds_only_what_the_members_spread_lacks():
    from borderflow.calibrate.predictive import MemberRuns

    rng = np.random.default_rng(3)
    truth = 1000.0
    rows = [obs(d, truth) for d in range(1, 30)]
    spread = (truth + 1) * np.exp(0.4 * rng.standard_normal((400, 30, 1))) - 1
    runs = MemberRuns([("P", "x")], spread, D)
    # members spread like the error they make: nothing to add
    assert log_error(runs, rows, after=D).pooled < 0.1
    # members that agree but sit a factor 2 off: the whole error is added
    tight = MemberRuns([("P", "x")], np.full((5, 30, 1), 2 * truth + 1), D)
    assert log_error(tight, rows, after=D).pooled == pytest.approx(np.log(2), rel=1e-3)
    # between the two: the sd missing from the spread, √(e² − v)
    wide = MemberRuns(
        [("P", "x")], (2 * truth + 2) * np.exp(0.3 * rng.standard_normal((400, 30, 1))) - 1, D
    )
    got = log_error(wide, rows, after=D).pooled
    assert got == pytest.approx(np.sqrt(np.log(2) ** 2 - 0.3**2), abs=0.03)


def test_anchored_series_have_a_positive_count_known_at_the_day():
    rows = [obs(0, 0, place="A"), obs(5, 12, place="A"), obs(0, 7, place="B"),
            obs(4, 0, place="B"), obs(1, 3, place="C"), obs(9, 0, 40, place="D"),
            obs(30, 50, place="E")]  # fmt: skip
    got = anchored_keys(rows, D + dt.timedelta(days=9))
    assert got == {("A", "x"), ("C", "x"), ("D", "x")}  # B last seen empty, E not yet seen
    assert anchored_keys(rows, D + dt.timedelta(days=3)) == {("B", "x"), ("C", "x")}


@pytest.mark.parametrize(
    "points, day",
    [
        ([(0, 5.0), (10, 0.0)], None),  # not empty at first: open throughout
        ([(0, 0.0), (160, 1771.0), (161, 1848.0)], 137),  # Nduta: growth of 77 a day, back to 0
        ([(0, 0.0), (31, 23984.0), (44, 26958.0)], 1),  # filled fast: open since the start
        ([(0, 0.0), (31, 0.0), (122, 2614.0), (135, 6000.0)], 111),
        ([(0, 0.0), (31, 0.0), (122, 2614.0), (135, 2000.0)], 32),  # no growth to date it
        ([(0, 0.0), (31, 0.0), (122, 2614.0)], 32),  # one count: after the last zero
        ([(0, 0.0), (31, 0.0)], 32),  # zeros only: after the last zero
        ([], None),
    ],
)
def test_a_camp_opens_when_its_counts_say(points, day):
    assert opening_day(points) == day


def test_camps_observed_empty_stay_closed_until_they_open(tmp_path):
    days = 40
    root = write_scenario(
        tmp_path / "flee",
        locations=[("A", "conflict_zone", 20000), ("B", "town", 1000),
                   ("C1", "camp", 100000), ("C2", "camp", 100000)],
        routes=[("A", "B", 100.0), ("B", "C1", 150.0), ("B", "C2", 150.0)],
        camp_series={"C1": [(d, 40 * d) for d in range(0, days, 5)],
                     "C2": [(0, 0), (10, 0), (20, 300), (25, 600), (30, 900), (35, 1200)]},
        days=days,
    )  # fmt: skip
    problem = FleeProblem.load(root)
    extra = [c for c in problem.opened_scenario.closures if c.name1 == "C2"]
    assert [(c.kind, c.start, c.end) for c in extra] == [("camp", 0, 15)]  # 300 at 60 a day
    assert not [c for c in problem.opened_scenario.closures if c.name1 == "C1"]
    closed = problem.simulate({}, 0, days - 1).daily("C2", CAMP_INDICATOR)
    open_ = FleeModel(problem.scenario, problem.settings, 0).run(until=days - 1)
    open_ = open_.history[:, open_.index["C2"]]
    assert closed[14] < open_[14] / 2  # a town people pass through, not a camp they stay in
    assert closed[-1] > 0  # and a camp from day 15
    # written as Flee closures rows, which Flee's reader takes back
    problem.write_openings(tmp_path / "opened.csv")
    names = {loc.name for loc in problem.scenario.locations}
    back = read_closures(tmp_path / "opened.csv", names, {"Home"})
    assert [(c.kind, c.name1, c.start, c.end) for c in back] == [("camp", "C2", 0, 15)]
    # a fit that has seen only C2's zeros opens it the day after the last, not on a later date
    early = problem.restrict(START + dt.timedelta(days=12))
    assert [c.end for c in early.opened_scenario.closures if c.name1 == "C2"] == [11]


def run_cli(*args, cwd=None):
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "borderflow", *args], capture_output=True,
                          text=True, env=env, cwd=cwd)  # fmt: skip


@pytest.mark.slow
def test_cli_backtest_and_calibrate_on_a_flee_scenario(tmp_path):
    root = flee_scenario(tmp_path)
    (root / "uncertain.toml").write_text(
        '["location_weights.C1"]\ndist = "lognormal"\nmedian = 1.0\nsigma = 0.5\nwhy = "t"\n'
    )
    res = run_cli("backtest", str(root), "--origins", "2", "--horizon", "10", "--particles",
                  "10", "--generations", "2", "--members", "4",
                  "--out", str(tmp_path / "bt"))  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "MASE persist." in res.stdout and "all" in res.stdout
    assert (tmp_path / "bt" / "backtest.png").stat().st_size > 10_000
    res = run_cli("calibrate", str(root), "--particles", "10", "--generations", "2",
                  "--predictive", "4", "--out", str(tmp_path / "cal"))  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "location_weights.C1" in res.stdout
    bands = (tmp_path / "cal" / "predictive" / "bands.csv").read_text().splitlines()
    assert bands[1].startswith("#date,#loc+name") and len(bands) == 2 + 40 * 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--origin", "2020-13-01"], "--origin: not a date"),
        (["--origin", "2019-01-01"], "nothing observed by the origin"),
        (["--params", "missing.toml"], "missing.toml: file not found"),
        (["--obs", "colour=red"], "--obs: unknown filter 'colour'"),
    ],
)
def test_cli_backtest_bad_input_is_one_line(tmp_path, args, message):
    root = flee_scenario(tmp_path)
    (root / "uncertain.toml").write_text(
        '["location_weights.C1"]\ndist = "lognormal"\nmedian = 1.0\nsigma = 0.5\nwhy = "t"\n'
    )
    res = run_cli("backtest", str(root), "--particles", "10", "--generations", "1",
                  "--members", "2", *args, "--out", str(tmp_path / "bt"), cwd=tmp_path)  # fmt: skip
    assert res.returncode == 2
    assert message in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "bt").exists()


def test_cli_backtest_fits_by_either_abc_method(tmp_path):
    """--method replenish fits each origin by replenishment ABC; the default stays Beaumont's
    weights, so the two posteriors (same seed) differ; an unknown method exits 2."""
    root = flee_scenario(tmp_path)
    (root / "uncertain.toml").write_text(
        '["location_weights.C1"]\ndist = "lognormal"\nmedian = 1.0\nsigma = 0.5\nwhy = "t"\n'
    )
    common = ["--origins", "1", "--horizon", "10", "--particles", "10", "--generations", "2",
              "--members", "4"]  # fmt: skip
    outs = {}
    for method in ("beaumont", "replenish"):
        res = run_cli("backtest", str(root), *common, "--method", method,
                      "--out", str(tmp_path / method))  # fmt: skip
        assert res.returncode == 0, res.stderr
        outs[method] = (tmp_path / method / "posteriors.csv").read_text()
    assert outs["beaumont"] != outs["replenish"]  # the option reaches the fit
    bad = run_cli("backtest", str(root), *common, "--method", "weights")
    assert bad.returncode == 2
