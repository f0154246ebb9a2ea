"""Learning across episodes: the hierarchy, leave-one-out fits, warnings, posterior ensembles."""

from __future__ import annotations

import csv
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from borderflow.calibrate import episode_scores as es
from borderflow.calibrate.abc import Posterior, Space
from borderflow.calibrate.diagnostics import posterior_warnings
from borderflow.calibrate.hierarchy import (
    SharedParam,
    episode_likelihood,
    fit_hyper,
    read_hierarchy,
)
from borderflow.calibrate.learn import LearnSettings, learn
from borderflow.calibrate.predictive import posterior_sampler
from borderflow.ensemble.params import (
    LogitNormal,
    Uniform,
    default_params_file,
    read_uncertain,
    with_shared_prior,
)
from borderflow.ensemble.runner import run_ensemble
from borderflow.errors import ScenarioError
from borderflow.execute import serial_executor
from borderflow.scenario.border_io import read_border_case
from borderflow.scenario.locate import resolve_scenario

SHARED = {
    "departure.base_hazard": SharedParam(
        name="departure.base_hazard", transform="log", low=1e-6, high=1e-3,
        mu=(-9.9, 1.5), tau=1.0, why="test",
    ),
    "stranded.return_per_day": SharedParam(
        name="stranded.return_per_day", transform="logit", low=0.0, high=1.0,
        mu=(-3.5, 1.0), tau=0.8, why="test",
    ),
}  # fmt: skip


def synthetic_episode(name: str, z_true: np.ndarray, noise: float, rng) -> Posterior:
    """What ABC under the reference prior would give for an episode whose truth is z_true.

    Particles from the reference prior, weighted by a Gaussian likelihood of a noisy
    measurement of z: a weighted sample of that episode's posterior.
    """
    refs = [p.reference() for p in SHARED.values()]
    space = Space(refs)
    x = np.array([[d.sample(rng) for d in refs] for _ in range(200)])
    z = space.to_z(x)
    y = z_true + noise * rng.standard_normal(len(z_true))
    log_w = -0.5 * np.sum(((z - y) / noise) ** 2, axis=1)
    w = np.exp(log_w - log_w.max())
    return Posterior(list(SHARED), x, w / w.sum(), [], 0)


def test_hierarchy_recovers_known_hyper_parameters():
    """Twenty synthetic episodes drawn from known (mu, tau): the 95 % intervals hold them."""
    rng = np.random.default_rng(11)
    mu = np.array([-10.5, -3.0])
    tau = np.array([0.6, 0.5])
    likes = []
    for e in range(20):
        z = mu + tau * rng.standard_normal(2)
        post = synthetic_episode(f"e{e}", z, 0.25, rng)
        likes.append(episode_likelihood(f"e{e}", post, SHARED))
    hyper = fit_hyper(likes, SHARED, seed=3, steps=600)
    mu_lo, mu_hi, tau_lo, tau_hi = hyper.interval(0.95)
    assert np.all(mu_lo <= mu) and np.all(mu <= mu_hi), (mu_lo, mu_hi)
    assert np.all(tau_lo <= tau) and np.all(tau <= tau_hi), (tau_lo, tau_hi)
    # and it learnt: mu's interval is far narrower than its hyper-prior's (sd 1.5 and 1.0),
    # narrow enough to exclude a mean one unit off
    assert np.all(mu_hi - mu_lo < 0.4 * 3.92 * np.array([1.5, 1.0]))
    assert np.all((mu + 1.0 > mu_hi) | (mu - 1.0 < mu_lo))
    priors = hyper.priors(SHARED)
    assert isinstance(priors["stranded.return_per_day"], LogitNormal)
    assert priors["departure.base_hazard"].median == pytest.approx(math.exp(-10.5), rel=0.5)


def test_hierarchy_from_no_episode_is_the_hyper_prior():
    hyper = fit_hyper([], SHARED, seed=0, steps=1000)
    mean, sd = hyper.predictive()
    assert mean == pytest.approx([-9.9, -3.5], abs=0.25)
    assert sd == pytest.approx([math.hypot(1.5, 1.0), math.hypot(1.0, 0.8)], rel=0.25)


def test_hierarchy_file_errors_name_the_parameter(tmp_path):
    bad = tmp_path / "h.toml"
    bad.write_text('["x.y"]\ntransform = "log"\nlow = 0\nhigh = 1\nmu = [0, 1]\ntau = 1\n'
                   'why = "w"\n')  # fmt: skip
    with pytest.raises(ScenarioError, match="low > 0") as exc:
        read_hierarchy(bad)
    assert "x.y" in str(exc.value)
    assert next(iter(read_hierarchy())) == "departure.social_weight"


# -- warnings -------------------------------------------------------------------------------
def test_degenerate_posterior_warns():
    priors = {"stranded.return_per_day": Uniform(dist="uniform", low=0.0, high=0.2, why="w")}
    x = np.linspace(0.05, 0.15, 40)[:, None]
    even = Posterior(list(priors), x, np.full(40, 1 / 40), [], 0)
    assert posterior_warnings(even, priors) == []
    w = np.full(40, 0.4 / 39)
    w[7] = 0.6
    msgs = posterior_warnings(Posterior(list(priors), x, w, [], 0), priors)
    assert len(msgs) == 1 and "degenerates" in msgs[0] and "60%" in msgs[0]


def test_equal_weights_on_copies_of_one_particle_warn():
    # replenishment ABC: equal weights, so only the copies can show a degenerate posterior
    priors = {"stranded.return_per_day": Uniform(dist="uniform", low=0.0, high=0.2, why="w")}
    x = np.full((40, 1), 0.1)
    x[:2, 0] = [0.08, 0.12]
    msgs = posterior_warnings(Posterior(list(priors), x, np.full(40, 1 / 40), [], 0), priors)
    assert len(msgs) == 1 and "degenerates" in msgs[0] and "(3 distinct)" in msgs[0]
    assert "95%" in msgs[0]
    # twenty distinct values, each twice: healthy
    pairs = np.repeat(np.linspace(0.05, 0.15, 20), 2)[:, None]
    assert posterior_warnings(Posterior(list(priors), pairs, np.full(40, 1 / 40), [], 0),
                              priors) == []  # fmt: skip


def test_fitted_value_on_the_edge_of_its_range_warns():
    priors = {
        "a.b": Uniform(dist="uniform", low=0.0, high=1.0, why="w"),
        "c.d": Uniform(dist="uniform", low=0.0, high=1.0, why="w"),
    }
    x = np.column_stack([np.full(30, 0.99), np.full(30, 0.5)])
    x[:, 0] += np.linspace(0, 0.005, 30)
    msgs = posterior_warnings(Posterior(list(priors), x, np.full(30, 1 / 30), [], 0), priors)
    assert len(msgs) == 1 and msgs[0].startswith("a.b") and "high edge" in msgs[0]


# -- defaults: the shared prior, ensembles from a fit ---------------------------------------
def test_case_priors_completed_by_the_shared_prior(tmp_path):
    case = read_border_case(resolve_scenario("chile-peru-2023"))
    own = read_uncertain(case.path / "uncertain.toml", case)
    shared = tmp_path / "prior.toml"
    shared.write_text(
        '["stranded.detection_base"]\ndist = "logitnormal"\nlow = 0.0\nhigh = 1.0\n'
        'mean = -2.0\nsd = 0.5\nwhy = "learnt"\n'
        '["stranded.return_per_day"]\ndist = "uniform"\nlow = 0.5\nhigh = 0.6\nwhy = "learnt"\n'
        '["event.not_in_this_case"]\ndist = "uniform"\nlow = 0.5\nhigh = 0.6\nwhy = "other"\n'
    )
    merged = with_shared_prior(own, case, shared)
    assert merged["stranded.return_per_day"] == own["stranded.return_per_day"]  # its own wins
    assert isinstance(merged["stranded.detection_base"], LogitNormal)
    assert "event.not_in_this_case" not in merged
    assert with_shared_prior(own, case, tmp_path / "none.toml") == own


def copy_case(name: str, tmp_path: Path) -> Path:
    dst = tmp_path / name
    shutil.copytree(resolve_scenario(name), dst)
    (dst / "posterior.csv").unlink(missing_ok=True)
    (dst / "posterior-summary.csv").unlink(missing_ok=True)
    return dst


@pytest.mark.slow
def test_ensemble_from_a_fit_keeps_its_correlation(tmp_path):
    """Members draw whole particles: two parameters correlated in the fit stay correlated."""
    case = copy_case("chile-peru-2023", tmp_path)
    assert default_params_file(case).name == "uncertain.toml"
    rng = np.random.default_rng(0)
    h = rng.uniform(4e-5, 9e-5, 60)
    r = 0.005 + 300 * (h - 4e-5) + rng.normal(0, 1e-4, 60)  # strongly tied to the hazard
    with (case / "posterior.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["departure.base_hazard", "stranded.return_per_day", "weight"])
        w.writerow(["#meta+param+a", "#meta+param+b", "#meta+weight"])
        w.writerows([a, b, 1 / 60] for a, b in zip(h, r, strict=True))
    assert default_params_file(case).name == "posterior.csv"
    out = run_ensemble(case, default_params_file(case), tmp_path / "ens", members=24,
                       executor=serial_executor())  # fmt: skip
    rows = list(csv.DictReader((out.folder / "draws.csv").open()))[1:]
    a = np.array([float(row["departure.base_hazard"]) for row in rows])
    b = np.array([float(row["stranded.return_per_day"]) for row in rows])
    assert np.corrcoef(a, b)[0, 1] > 0.95
    # and every member is one of the fit's particles, not a mix of two
    pairs = {(round(x, 12), round(y, 12)) for x, y in zip(h, r, strict=True)}
    assert all((round(x, 12), round(y, 12)) in pairs for x, y in zip(a, b, strict=True))


# -- leave-one-out: nothing after the origin --------------------------------------------------
TINY = LearnSettings(particles=10, generations=2, steps=200, seed=0)


def perturb_after_origin(case: Path, origin: str) -> int:
    """Multiply every reported range ending after the origin by 3; how many were changed."""
    path = case / "observations.csv"
    rows = list(csv.reader(path.open()))
    changed = 0
    for row in rows[2:]:
        last = row[1] or row[0]
        if last > origin:
            row[5], row[6] = str(float(row[5]) * 3 + 7), str(float(row[6]) * 3 + 11)
            changed += 1
    with path.open("w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return changed


def loo_outputs(cases: list[Path], target: str) -> tuple[bytes, bytes]:
    """The left-out episode's fit and its forecast's members, as bytes."""
    learnt = learn(cases, read_hierarchy(), TINY, leave_out=target, executor=serial_executor())
    fit = learnt.fits[target]
    runs = es.forecast_runs(fit.episode.problem, posterior_sampler(fit.posterior, fit.priors),
                            members=4, seed=0, stream=1, executor=serial_executor())  # fmt: skip
    return fit.posterior.particles.tobytes() + fit.posterior.weights.tobytes(), (
        runs.values.tobytes()
    )


@pytest.mark.slow
def test_reports_after_the_origin_change_neither_fit_nor_forecast(tmp_path):
    a = [copy_case("chile-peru-2023", tmp_path / "a"), copy_case("chile-peru-2025", tmp_path / "a")]
    b = [copy_case("chile-peru-2023", tmp_path / "b"), copy_case("chile-peru-2025", tmp_path / "b")]
    assert perturb_after_origin(b[0], "2023-04-28") >= 4
    fit_a, runs_a = loo_outputs(a, "chile-peru-2023")
    fit_b, runs_b = loo_outputs(b, "chile-peru-2023")
    assert fit_a == fit_b
    assert runs_a == runs_b
    # the test can fail: a report known by the origin does change the fit
    rows = list(csv.reader((b[0] / "observations.csv").open()))
    for row in rows[2:]:
        if (row[1] or row[0]) <= "2023-04-28":
            row[6] = "400"
    with (b[0] / "observations.csv").open("w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    assert loo_outputs(b, "chile-peru-2023")[0] != fit_a


@pytest.mark.slow
def test_leave_out_excludes_the_episode_from_the_shared_prior(tmp_path):
    """--leave-out: the shared prior is the other episodes'; the left-out one's data enter
    only through its fit up to its origin."""
    cases = [copy_case("chile-peru-2023", tmp_path), copy_case("chile-peru-2025", tmp_path)]
    learnt = learn(cases, read_hierarchy(), TINY, leave_out="chile-peru-2023",
                   executor=serial_executor())  # fmt: skip
    assert learnt.hyper.episodes == ["chile-peru-2025"]
    assert list(learnt.references) == ["chile-peru-2025"]
    assert list(learnt.fits) == ["chile-peru-2023"]
    fit = learnt.fits["chile-peru-2023"]
    assert fit.hyper.episodes == ["chile-peru-2025"]
    assert all(o.date <= fit.episode.origin for o in fit.episode.known.observations)


@pytest.mark.slow
def test_learn_command_writes_a_prior_every_case_can_read(tmp_path):
    cases = [copy_case("chile-peru-2023", tmp_path), copy_case("chile-peru-2025", tmp_path)]
    prior = tmp_path / "prior.toml"
    cmd = [sys.executable, "-m", "borderflow", "learn", "--cases", str(cases[0]), "--cases",
           str(cases[1]), "--particles", "10", "--generations", "1", "--steps", "200",
           "--workers", "1", "--out", str(prior)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    text = prior.read_text()
    assert "Made with: borderflow learn --cases" in text
    assert "--particles 10 --generations 1 --steps 200 --seed 0" in text
    case = read_border_case(cases[0])
    own = read_uncertain(case.path / "uncertain.toml", case)
    merged = with_shared_prior(own, case, prior)
    assert "stranded.divert_per_day" in merged  # not in its uncertain.toml
    for c in cases:  # each case's leave-one-out fit, in its folder
        assert (c / "posterior.csv").exists()
    bad = subprocess.run([*cmd[:4], "--cases", str(tmp_path / "nowhere"), "--out",
                          str(tmp_path / "p2.toml")], capture_output=True, text=True)  # fmt: skip
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "p2.toml").exists()


def test_committed_shared_prior_and_fits_are_the_learn_command_s():
    """prior.toml says which command wrote it, covers the hierarchy, and every case reads it;
    a built-in case's posterior.csv is one of its fits (parameters of the case)."""
    from borderflow.calibrate.learn import builtin_cases, load_episode, own_priors
    from borderflow.ensemble.params import SHARED_PRIOR, read_posterior

    text = SHARED_PRIOR.read_text()
    assert "# Made with: borderflow learn " in text and " --particles " in text
    for case_dir in builtin_cases():
        case = read_border_case(case_dir)
        own = read_uncertain(case_dir / "uncertain.toml", case)
        merged = with_shared_prior(own, case)
        shared_here = [n for n in read_hierarchy() if n in merged and n not in own]
        assert shared_here, case_dir.name  # the shared prior fills something in every case
        if (case_dir / "posterior.csv").exists():
            sampler = read_posterior(case_dir / "posterior.csv", case)
            known = set(read_border_case(case_dir).event_labels)
            shared = {n for n in read_hierarchy() if not n.startswith("event.")}
            shared |= {n for n in read_hierarchy() if n.removeprefix("event.") in known}
            # mechanisms the case switches off (a shared rate written as 0) are held, not fitted
            ep = load_episode(case_dir)
            held = {n for n in own_priors(ep, read_hierarchy()) if n not in ep.own}
            assert set(sampler.names) == (set(own) | shared) - held, case_dir.name
