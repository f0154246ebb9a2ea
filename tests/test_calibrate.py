"""ABC-SMC calibration recovers parameters from data simulated with them."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from border_factory import write_case
from borderflow.calibrate.abc import abc_smc, write_posterior
from borderflow.calibrate.problem import BorderProblem
from borderflow.ensemble.params import read_uncertain, with_shared_prior
from borderflow.execute import serial_executor
from borderflow.rules.border import BorderModel
from borderflow.rules.border_indicators import CrossingCount as C
from borderflow.scenario.border_io import override, read_border_case
from borderflow.scenario.border_schema import ObservationRow
from borderflow.scenario.locate import resolve_scenario

pytestmark = pytest.mark.slow  # every test calibrates by simulating many runs

TRUTH = {"departure.base_hazard": 0.008, "stranded.irregular_per_day": 0.25}


def synthetic(tmp_path):
    root = write_case(
        tmp_path / "case",
        stock=3000,
        hazard=0.005,
        policies=[("A", "entry", "2025-01-01", "", "documented_only", 0, 0.5)],
        stranded={"irregular_per_day": 0.3},
    )
    (root / "uncertain.toml").write_text(
        '["departure.base_hazard"]\ndist = "uniform"\nlow = 0.001\nhigh = 0.02\nwhy = "t"\n'
        '["stranded.irregular_per_day"]\ndist = "uniform"\nlow = 0.05\nhigh = 0.9\nwhy = "t"\n'
    )
    case = read_border_case(root)
    # Observations: what the model says with the true parameters, reported as ±10 % ranges
    # on every other day (the days between are missing).
    m = BorderModel(override(case, TRUTH), 12345).run()
    obs = []
    for d in range(0, m.days, 2):
        for ind in ("stranded", "arrived"):
            v = float(m.at_crossing[d, 0, C[ind.upper()]])
            obs.append(ObservationRow(date=m.date(d), location="A", indicator=ind,
                                      low=0.9 * v, high=1.1 * v + 1))  # fmt: skip
    return root, dataclasses.replace(case, observations=tuple(obs))


def test_abc_smc_recovers_known_parameters(tmp_path):
    root, case = synthetic(tmp_path)
    priors = read_uncertain(root / "uncertain.toml", case)
    post = abc_smc(BorderProblem.from_case(case), priors, particles=60, generations=4, seed=3,
                   workers=2)  # fmt: skip
    q05, q95 = post.quantiles([0.05, 0.95])
    for j, name in enumerate(post.names):
        assert q05[j] <= TRUTH[name] <= q95[j], (name, q05[j], q95[j])
    # the posterior is narrower than the prior
    width = q95 - q05
    assert width[post.names.index("departure.base_hazard")] < 0.5 * (0.02 - 0.001)
    assert post.tolerances == sorted(post.tolerances, reverse=True)
    assert abs(post.weights.sum() - 1) < 1e-12
    files = write_posterior(post, tmp_path / "out")
    assert [f.name for f in files] == ["posterior.csv", "posterior-summary.csv"]
    lines = (tmp_path / "out" / "posterior.csv").read_text().splitlines()
    assert len(lines) == 2 + 60


NUISANCE = {"departure.documented_multiplier": (0.5, 2), "departure.family_multiplier": (0.5, 2),
             "travel.bus_km_per_day": (500, 1500), "travel.walk_km_per_day": (10, 40),
             "departure.preparation_days": (0.5, 3), "departure.social_weight": (0, 0.3),
             "stranded.return_per_day": (0, 0.1), "stranded.divert_per_day": (0, 0.1)}  # fmt: skip


def test_replenishment_keeps_a_spread_where_importance_weights_degenerate(tmp_path):
    # ten parameters (the two the data pin down, eight more they say less about): Beaumont's
    # weights fall on a few of 60 particles, replenishment keeps most of them distinct
    root, case = synthetic(tmp_path)
    with (root / "uncertain.toml").open("a") as f:
        for name, (low, high) in NUISANCE.items():
            f.write(f'["{name}"]\ndist = "uniform"\nlow = {low}\nhigh = {high}\nwhy = "t"\n')
    priors = read_uncertain(root / "uncertain.toml", case)
    problem = BorderProblem.from_case(case)
    old, new = (abc_smc(problem, priors, particles=60, generations=3, seed=3, method=m,
                        executor=serial_executor()) for m in ("beaumont", "replenish"))  # fmt: skip
    assert len(new.names) == 10 and len(new.tolerances) == 3
    assert new.effective_size() > 30 and new.effective_size() > 4 * old.effective_size()
    assert np.all(new.weights == 1 / 60) and len(new.acceptance) == 2
    assert all(0.05 < a < 0.8 for a in new.acceptance), new.acceptance
    assert new.tolerances == sorted(new.tolerances, reverse=True)
    assert new.tolerances[-1] <= old.tolerances[-1] * 1.1  # as close to the data as Beaumont
    q05, q95 = new.quantiles([0.05, 0.95])
    for name, truth in TRUTH.items():
        j = new.names.index(name)
        assert q05[j] <= truth <= q95[j], (name, q05[j], q95[j])
    # at most 10 sweeps of moves of the 30 copies in each of the two later generations
    assert new.simulations <= 60 + 2 * 30 * 10


def test_same_seed_same_posterior(tmp_path):
    root, case = synthetic(tmp_path)
    priors = read_uncertain(root / "uncertain.toml", case)
    stranded = [o for o in case.observations if o.indicator == "stranded"]
    problem = BorderProblem.from_case(case).with_observations(stranded)
    a = abc_smc(problem, priors, particles=20, generations=2, seed=5)
    b = abc_smc(problem, priors, particles=20, generations=2, seed=5)
    np.testing.assert_array_equal(a.particles, b.particles)
    np.testing.assert_array_equal(a.weights, b.weights)


def test_cli_calibrates_to_stored_observations(tmp_path):
    db = f"sqlite:///{tmp_path / 'obs.db'}"
    case = os.path.join(
        os.path.dirname(__file__), "..", "src/borderflow/builtin/cases/chile-peru-2023"
    )
    env = {**os.environ, "COLUMNS": "200"}
    run = [sys.executable, "-m", "borderflow"]
    subprocess.run([*run, "obs", "import", f"{case}/observations.csv", "--db", db], check=True,
                   capture_output=True, env=env)  # fmt: skip
    res = subprocess.run(
        [*run, "calibrate", "chile-peru-2023", "--obs", "indicator=stranded", "--db", db,
         "--particles", "10", "--generations", "2", "--predictive", "4",
         "--out", str(tmp_path / "cal")],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "departure.base_hazard" in res.stdout
    # the case's 6 uncertain parameters, and the shared prior's for those it does not give
    c = read_border_case(resolve_scenario("chile-peru-2023"))
    fitted = with_shared_prior(read_uncertain(c.path / "uncertain.toml", c), c)
    assert len(fitted) > 6
    assert (tmp_path / "cal" / "posterior-summary.csv").read_text().count("\n") == 2 + len(fitted)
    # the fit: each stored observation against the predictive members, reported and written
    fit = (tmp_path / "cal" / "fit.csv").read_text().splitlines()
    stranded = [o for o in c.observations if o.indicator == "stranded"]
    assert fit[1].startswith("#date+start") and len(fit) == 2 + len(stranded) == 2 + 6
    assert "against each observation" in res.stdout and "inside" in res.stdout
    # the posterior-predictive ensemble: every member's parameters are one of the particles
    predictive = tmp_path / "cal" / "predictive"
    assert (predictive / "bands.parquet").exists() and (predictive / "fan.png").exists()
    particles = {
        tuple(line.split(",")[:-1])
        for line in (tmp_path / "cal" / "posterior.csv").read_text().splitlines()[2:]
    }
    members = [
        line.split(",")[2:] for line in (predictive / "draws.csv").read_text().splitlines()[2:]
    ]
    assert len(members) == 4 and all(tuple(m) in particles for m in members)


def test_cli_calibrate_by_replenishment(tmp_path):
    res = subprocess.run(
        [sys.executable, "-m", "borderflow", "calibrate", "chile-peru-2023", "--method",
         "replenish", "--particles", "12", "--generations", "2", "--predictive", "0",
         "--workers", "1", "--out", str(tmp_path / "cal")],
        capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    shown = " ".join(res.stdout.split())  # the table's title wraps
    assert re.search(r"effective size [\d.]+ of 12 \(\d+ distinct\), moves accepted", shown)
    weights = [line.rsplit(",", 1)[1] for line in
               (tmp_path / "cal" / "posterior.csv").read_text().splitlines()[2:]]  # fmt: skip
    assert len(weights) == 12 and len(set(weights)) == 1
    bad = subprocess.run([sys.executable, "-m", "borderflow", "calibrate", "chile-peru-2023",
                          "--method", "gibbs"], capture_output=True, text=True)  # fmt: skip
    assert bad.returncode == 2 and "gibbs" in bad.stderr


@pytest.mark.parametrize("method", ["beaumont", "replenish"])
def test_abc_gives_the_same_posterior_on_every_executor(tmp_path, method):
    from borderflow.execute import dask_executor

    root, case = synthetic(tmp_path)
    priors = read_uncertain(root / "uncertain.toml", case)
    problem = BorderProblem.from_case(case)
    runs = [
        abc_smc(problem, priors, particles=12, generations=3, seed=7, executor=e, method=method)
        for e in (serial_executor(), None, dask_executor(local_workers=2))
    ]
    for other in runs[1:]:
        np.testing.assert_array_equal(runs[0].particles, other.particles)
        np.testing.assert_array_equal(runs[0].weights, other.weights)
