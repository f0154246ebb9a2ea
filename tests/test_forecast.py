"""Forecasts by data assimilation: the filter recovers a known state, batches change nothing,
the cycle resumes after a kill, the likelihood reads ranges and grades, the CLI's errors."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from border_factory import write_case
from borderflow.ensemble.params import read_uncertain
from borderflow.errors import ScenarioError
from borderflow.forecast import store
from borderflow.forecast.cycle import ForecastSpec, forecast
from borderflow.forecast.filter import advance, assimilate, initial, simulated, space_of
from borderflow.forecast.likelihood import error_sd, log_likelihood
from borderflow.rules.border import BorderModel
from borderflow.scenario.border_io import override, read_border_case
from borderflow.scenario.border_schema import ObservationRow

TRUTH = {"departure.base_hazard": 0.006, "stranded.return_per_day": 0.12}
PRIORS = """
["departure.base_hazard"]
dist = "lognormal"
median = 0.004
sigma = 0.5
why = "test"

["stranded.return_per_day"]
dist = "uniform"
low = 0.02
high = 0.3
why = "test"
"""
START = dt.date(2025, 1, 1)
ORIGIN = 24  # day of the origin


def synthetic_case(root: Path) -> Path:
    """Everyone is refused at A and waits between the posts: stranded and returned vary."""
    write_case(
        root,
        stock=3000,
        end="2025-02-20",
        policies=[("A", "entry", "2025-01-01", "", "documented_only", 0, 0.0)],
        stranded={"irregular_per_day": 0.05, "detection_base": 0.2},
    )
    (root / "uncertain.toml").write_text(PRIORS)
    return root


def truth_reports(
    case_dir: Path, every: int = 2, grade: str = "B"
) -> tuple[list[ObservationRow], BorderModel]:
    """Reports of the truth's stranded and returned people (±10 %), to day 40."""
    case = read_border_case(case_dir)
    truth = BorderModel(override(case, TRUTH), 987).run()
    rows = []
    for day in range(3, 41, every):
        for ind in ("stranded", "returned"):
            v = simulated(truth, _row(day, ind, 0, 0))
            rows.append(_row(day, ind, round(0.9 * v), round(1.1 * v), grade))
    return rows, truth


def _row(day: int, indicator: str, low: float, high: float, grade: str = "B") -> ObservationRow:
    date = START + dt.timedelta(days=day)
    return ObservationRow(
        date=date, location="A", indicator=indicator, low=low, high=high, reliability=grade
    )


def write_reports(case_dir: Path, rows: list[ObservationRow]) -> None:
    lines = ["date,end,stat,location,indicator,low,high,source,reliability"]
    lines += [f"{o.date},,value,A,{o.indicator},{o.low:g},{o.high:g},test,B" for o in rows]
    (case_dir / "observations.csv").write_text("\n".join(lines) + "\n")


def test_interval_likelihood_reads_ranges_and_grades():
    o = _row(3, "stranded", 100, 200)
    inside, edge, far = log_likelihood(o, np.array([150.0, 200.0, 400.0]))
    assert inside > edge > far
    assert inside > np.log(0.95)  # a figure inside a range is almost sure
    loose = o.model_copy(update={"reliability": "D"})
    assert log_likelihood(loose, np.array([400.0]))[0] > far  # a worse grade forgives more
    assert np.isfinite(log_likelihood(o, np.array([1e9]))).all()  # far tails stay finite


@pytest.mark.slow
def test_filter_recovers_the_state_and_the_parameters(tmp_path):
    case_dir = synthetic_case(tmp_path / "case")
    reports, truth = truth_reports(case_dir, every=4, grade="C")
    case = read_border_case(case_dir)
    priors = read_uncertain(case_dir / "uncertain.toml", case)
    prior = initial(case, priors, particles=100, seed=5)
    advance(prior, ORIGIN)
    post = initial(case, priors, particles=100, seed=5)
    steps = assimilate(post, case, space_of(post.names, priors), reports, ORIGIN)
    assert steps and any(s.resampled for s in steps)
    today = _row(ORIGIN, "stranded", 0, 0)
    true_now = simulated(truth, today)
    x_prior = np.array([simulated(m, today) for m in prior.models])
    x_post = np.array([simulated(m, today) for m in post.models])
    w = post.weights
    mean = float(w @ x_post)
    # the members' state on the origin day agrees with the truth within the reports' error
    assert abs(np.log1p(mean) - np.log1p(true_now)) < error_sd(
        today.model_copy(update={"reliability": "C"})
    )
    assert np.sqrt(w @ (x_post - mean) ** 2) < 0.5 * x_prior.std()
    for j, name in enumerate(post.names):  # true parameters inside the 90 % interval
        order = np.argsort(post.values[:, j])
        cum = np.cumsum(w[order])
        lo = post.values[order[np.searchsorted(cum, 0.05)], j]
        hi = post.values[order[min(np.searchsorted(cum, 0.95), len(cum) - 1)], j]
        assert lo <= TRUTH[name] <= hi, (name, lo, hi)
        prior_lo, prior_hi = np.quantile(prior.values[:, j], [0.05, 0.95])
        assert hi - lo < 0.6 * (prior_hi - prior_lo), name  # the reports taught something


def _interval90(values: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    order = np.argsort(values)
    cum = np.cumsum(w[order])
    return values[order[np.searchsorted(cum, 0.05)]], values[
        order[min(np.searchsorted(cum, 0.95), len(cum) - 1)]
    ]


@pytest.mark.slow
def test_mcmc_moves_recover_the_parameters_from_frequent_reports(tmp_path):
    """Grade-B reports every other day: the resample-move step with a Metropolis–Hastings
    kernel keeps the parameter cloud diverse and its 90 % intervals around the truth."""
    from borderflow.forecast import moves

    case_dir = synthetic_case(tmp_path / "case")
    reports, _truth = truth_reports(case_dir, every=2, grade="B")
    case = read_border_case(case_dir)
    priors = read_uncertain(case_dir / "uncertain.toml", case)
    rates: list[float] = []
    real = moves.mcmc_move

    def counted(*args, **kwargs) -> float:
        rates.append(real(*args, **kwargs))
        return rates[-1]

    moves.mcmc_move = counted
    try:
        post = initial(case, priors, particles=60, seed=5)
        assimilate(post, case, space_of(post.names, priors), reports, ORIGIN, move="mcmc")
    finally:
        moves.mcmc_move = real
    assert len(rates) >= 3 and 0.05 < np.mean(rates) < 0.8, rates  # the kernel moves
    assert len(np.unique(post.values[:, 0])) > 10  # copies spread out again
    for j, name in enumerate(post.names):
        lo, hi = _interval90(post.values[:, j], post.weights)
        assert lo <= TRUTH[name] <= hi, (name, lo, hi)


@pytest.mark.slow
def test_serial_and_pool_give_the_same_particles(tmp_path):
    from borderflow.execute import pool_executor, serial_executor

    case_dir = synthetic_case(tmp_path / "case")
    reports = [o for o in truth_reports(case_dir, every=4)[0] if o.date.day >= 8]
    case = read_border_case(case_dir)
    priors = read_uncertain(case_dir / "uncertain.toml", case)
    space = space_of(list(priors), priors)
    runs = []
    for executor in (serial_executor(), pool_executor(2)):
        p = initial(case, priors, particles=10, seed=4)
        assimilate(p, case, space, reports, ORIGIN, executor=executor, move="mcmc")
        runs.append(p)
    a, b = runs
    assert a.generation == b.generation > 0
    assert np.array_equal(a.values, b.values) and np.array_equal(a.log_w, b.log_w)
    assert np.array_equal(a.loglik, b.loglik) and a.streams == b.streams
    for ma, mb in zip(a.models, b.models, strict=True):
        assert np.array_equal(ma.agents.state, mb.agents.state)
        assert np.array_equal(ma.at_crossing, mb.at_crossing)
    write_reports(case_dir, reports)  # and whole forecasts, members included
    origin = START + dt.timedelta(days=ORIGIN)
    serial = forecast(_spec(case_dir, tmp_path / "serial"), origin)
    pooled = ForecastSpec(case_dir, tmp_path / "p", members=24, seed=2, executor=pool_executor(2))
    _same_forecast(serial.folder, forecast(pooled, origin).folder)


def _spec(case_dir: Path, out: Path) -> ForecastSpec:
    return ForecastSpec(case_dir, out, members=24, seed=2)


def _same_forecast(a: Path, b: Path) -> None:
    names = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for name in names:
        if name.name in (store.PARTICLES, store.MANIFEST, store.ASSIMILATED, "fan.png"):
            continue  # the manifest names its parent; assimilated.csv lists this step's reports
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    pa, pb = (store.load_particles(f / store.PARTICLES) for f in (a, b))
    assert np.array_equal(pa.values, pb.values) and np.array_equal(pa.log_w, pb.log_w)
    for ma, mb in zip(pa.models, pb.models, strict=True):
        assert np.array_equal(ma.agents.state, mb.agents.state)
        assert np.array_equal(ma.at_crossing, mb.at_crossing)


@pytest.mark.slow
def test_two_batches_give_the_particles_of_one(tmp_path):
    case_dir = synthetic_case(tmp_path / "case")
    write_reports(case_dir, truth_reports(case_dir, every=3)[0])
    first, second = START + dt.timedelta(days=14), START + dt.timedelta(days=ORIGIN)
    forecast(_spec(case_dir, tmp_path / "two"), first)
    r2 = forecast(_spec(case_dir, tmp_path / "two"), second)
    r1 = forecast(_spec(case_dir, tmp_path / "one"), second)
    assert r2.parent is not None and r2.parent.name == "origin-2025-01-15"
    assert 0 < r2.new < r1.new == r2.used
    _same_forecast(r1.folder, r2.folder)
    refit = forecast(_spec(case_dir, tmp_path / "two"), second + dt.timedelta(days=1), refit=True)
    assert refit.parent is None and refit.new == refit.used


@pytest.mark.slow
def test_the_cycle_resumes_after_a_kill(tmp_path):
    case_dir = synthetic_case(tmp_path / "case")
    write_reports(case_dir, truth_reports(case_dir, every=3)[0])
    origin = START + dt.timedelta(days=ORIGIN)
    out = tmp_path / "cycle"
    forecast(_spec(case_dir, out), START + dt.timedelta(days=14))
    code = (
        "import os, sys, datetime as dt\n"
        "from pathlib import Path\n"
        "from borderflow.forecast.cycle import ForecastSpec, forecast\n"
        "def die(i):\n"
        "    if i == 5: os.kill(os.getpid(), 9)\n"
        f"forecast(ForecastSpec(Path({str(case_dir)!r}), Path({str(out)!r}), members=24, seed=2),"
        f" dt.date.fromisoformat({origin.isoformat()!r}), on_member=die)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    killed = subprocess.run([sys.executable, "-c", code], env=env, timeout=600)
    assert killed.returncode == -9
    assert not store.folder_of(out, origin).exists()
    assert list(out.glob(".origin-*"))  # the half-written forecast
    resumed = forecast(_spec(case_dir, out), origin)
    assert not list(out.glob(".origin-*"))
    assert resumed.parent is not None
    whole = forecast(_spec(case_dir, tmp_path / "whole"), START + dt.timedelta(days=14))
    whole = forecast(_spec(case_dir, tmp_path / "whole"), origin)
    _same_forecast(resumed.folder, whole.folder)
    assert forecast(_spec(case_dir, out), origin).already


def test_origin_outside_the_case_is_a_clear_error(tmp_path):
    case_dir = synthetic_case(tmp_path / "case")
    with pytest.raises(ScenarioError, match="--origin 2024-12-01 must lie"):
        forecast(_spec(case_dir, tmp_path / "o"), dt.date(2024, 12, 1))


@pytest.mark.slow
def test_cli_writes_the_forecast_files_and_rejects_bad_input(tmp_path):
    case_dir = synthetic_case(tmp_path / "case")
    write_reports(case_dir, truth_reports(case_dir, every=4)[0])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    cmd = [sys.executable, "-m", "borderflow", "forecast", str(case_dir), "--members", "8"]
    out = tmp_path / "f"
    ok = subprocess.run(
        [*cmd, "--origin", "2025-01-20", "--out", str(out)], env=env, capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    assert "weighed" in ok.stdout and "ESS" in ok.stdout
    folder = out / "origin-2025-01-20"
    for name in ("bands.parquet", "fan.png", "draws.csv", "assimilated.csv", "particles.bin"):
        assert (folder / name).exists(), name
    assert len(list((folder / "members").glob("*.parquet"))) == 8
    short = tmp_path / "short"
    ok = subprocess.run(
        [*cmd, "--origin", "2025-01-20", "--horizon", "5", "--out", str(short)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    days = pq.read_table(short / "origin-2025-01-20" / "bands.parquet").column("day").to_numpy()
    assert days.max() == 19 + 5
    bad = subprocess.run(
        [*cmd, "--origin", "20-01-2025", "--out", str(out)], env=env, capture_output=True, text=True
    )
    assert bad.returncode == 2 and "is not a date" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.slow
def test_reports_from_the_store_give_the_forecast_of_the_case_file(tmp_path):
    from borderflow.observe.store import Store

    case_dir = synthetic_case(tmp_path / "case")
    reports = truth_reports(case_dir, every=4)[0]
    write_reports(case_dir, reports)
    lines = [
        "date,place,indicator,low,high,publisher,reliability",
        "#date,#loc+name,#indicator+code,#indicator+num+min,#indicator+num+max,"
        "#meta+source,#meta+reliability",
    ]
    lines += [f"{o.date},A,{o.indicator},{o.low:g},{o.high:g},test,B" for o in reports]
    lines.append("2025-01-05,Chacalluta,stranded,900,1000,another case,B")  # not this case's
    (tmp_path / "store.csv").write_text("\n".join(lines) + "\n")
    url = f"sqlite:///{tmp_path / 'obs.db'}"
    Store(url).import_file(tmp_path / "store.csv")
    origin = START + dt.timedelta(days=20)
    from_file = forecast(_spec(case_dir, tmp_path / "file"), origin)
    spec = ForecastSpec(case_dir, tmp_path / "db", members=24, seed=2, db=url)
    from_db = forecast(spec, origin)
    assert from_db.used == from_file.used > 0
    _same_forecast(from_file.folder, from_db.folder)
