"""An episode's prior of a shared parameter: the learnt distribution within the case's range."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pytest
from scipy import stats

from borderflow.calibrate.abc import Space
from borderflow.calibrate.hierarchy import combine, read_hierarchy
from borderflow.calibrate.learn import CASES_DIR, load_episode, not_blind, reference_priors
from borderflow.ensemble.params import Fixed, LogitNormal, LogNormal, Restricted, Uniform
from borderflow.forecast.cycle import ForecastSpec
from borderflow.forecast.target import load_target

LEARNT_SHARE = LogitNormal(dist="logitnormal", low=0.0, high=1.0, mean=0.85, sd=1.4, why="l")
LEARNT_RATE = LogNormal(dist="lognormal", median=1.0, sigma=0.8, why="l")


def test_a_uniform_range_restricts_the_learnt_prior_and_samples_follow_it():
    own = Uniform(dist="uniform", low=0.01, high=0.1, why="a swim around a breakwater")
    d = combine(LEARNT_SHARE, own)
    assert isinstance(d, Restricted) and (d.low, d.high) == (0.01, 0.1)
    rng = np.random.default_rng(3)
    x = np.array([d.sample(rng) for _ in range(3000)])
    assert x.min() >= 0.01 and x.max() <= 0.1
    # the exact law: the learnt normal on the logit scale, truncated to the range
    z = np.log(x) - np.log1p(-x)
    a, b = (math.log(r / (1 - r)) for r in (0.01, 0.1))
    law = stats.truncnorm((a - 0.85) / 1.4, (b - 0.85) / 1.4, loc=0.85, scale=1.4)
    assert stats.kstest(z, law.cdf).pvalue > 0.01
    # mass piles up at the top of the range, where the learnt prior is: not a uniform
    assert np.median(x) > 0.06
    # density: the learnt one inside, nothing outside
    assert d.logpdf(0.05) == pytest.approx(LEARNT_SHARE.logpdf(0.05))
    assert d.logpdf(0.2) == -math.inf
    # a lognormal learnt prior is restricted on its log scale, down to 0 when the range is
    r = combine(LEARNT_RATE, Uniform(dist="uniform", low=0.0, high=1.6, why="w"))
    assert isinstance(r, Restricted) and r.low == 0.0
    assert 0.0 < r.sample(rng) <= 1.6


def test_normals_on_one_scale_pool_by_precision_and_other_ranges_stand():
    own = LogNormal(dist="lognormal", median=math.e**2, sigma=0.8, why="own")
    pooled = combine(LEARNT_RATE, own)
    assert isinstance(pooled, LogNormal)
    assert pooled.median == pytest.approx(math.e)  # halfway on the log scale
    assert pooled.sigma == pytest.approx(0.8 / math.sqrt(2))
    fitted_later = Uniform(dist="uniform", low=0.75, high=1.0, why="fitted", after_origin=True)
    assert combine(LEARNT_SHARE, fitted_later) is LEARNT_SHARE
    assert combine(LEARNT_SHARE, None) is LEARNT_SHARE
    with pytest.raises(Exception, match="lies outside"):
        combine(LogitNormal(dist="logitnormal", low=0.0, high=0.5, mean=0.0, sd=1.0, why="l"),
                Uniform(dist="uniform", low=0.6, high=0.9, why="w"))  # fmt: skip


def test_episodes_take_their_own_ranges_unless_set_after_the_origin(tmp_path):
    shared = read_hierarchy()
    ceuta = load_episode(CASES_DIR / "ceuta-2021")
    p = reference_priors(ceuta, shared)["stranded.irregular_per_day"]
    assert isinstance(p, Restricted) and (p.low, p.high) == (0.01, 0.1)
    assert not_blind(ceuta, shared) == []
    # chile-peru-2023's ranges were fitted on all its reports (fit.toml): not used, and said
    cp = load_episode(CASES_DIR / "chile-peru-2023")
    priors = reference_priors(cp, shared)
    assert isinstance(priors["stranded.irregular_per_day"], LogitNormal)
    assert isinstance(priors["departure.preparation_days"], Restricted)  # assumed, not fitted
    # its base hazard is set from the reports up to the origin alone, so nothing is warned;
    # marked as fitted later, it is (no other episode shares it to stand in for it)
    assert not_blind(cp, shared) == []
    copy = shutil.copytree(CASES_DIR / "chile-peru-2023", tmp_path / "cp")
    toml = copy / "uncertain.toml"
    text = toml.read_text(encoding="utf-8").replace(
        "sigma = 0.3\n", "sigma = 0.3\nafter_origin = true\n"
    )
    toml.write_text(text, encoding="utf-8")
    warned = {w.split(":")[0] for w in not_blind(load_episode(copy), shared)}
    assert warned == {"departure.base_hazard"}
    # the ABC space of the combined priors keeps every proposal inside the case's range
    space = Space([p])
    assert 0.01 <= float(space.to_x(np.array([40.0]))[0]) <= 0.1


def test_the_filter_moves_shared_parameters_on_their_learnt_scale(tmp_path):
    target = load_target(ForecastSpec(CASES_DIR / "tijuana-2018", tmp_path))
    # divert_per_day is in tijuana's fit (posterior.csv) but not in its uncertain.toml
    assert "stranded.divert_per_day" in target.params.names
    prior = target.priors["stranded.divert_per_day"]
    assert isinstance(prior, LogitNormal)
    space = Space([prior])
    assert 0.0 < float(space.to_x(np.array([-30.0]))[0]) < float(space.to_x(np.array([30.0]))[0])
    assert float(space.to_x(np.array([30.0]))[0]) <= 1.0


def test_a_mechanism_the_case_switches_off_is_held_not_learnt():
    """Peru 2019 sets word of mouth to 0 ("the rush is the deadline itself"): no draw of a
    lognormal can be 0, so the fit holds it there instead of taking the others' ~0.5."""
    shared = read_hierarchy()
    ep = load_episode(CASES_DIR / "peru-visa-2019")
    assert "departure.social_weight" not in ep.own  # said in scenario.toml, not uncertain.toml
    prior = reference_priors(ep, shared)["departure.social_weight"]
    assert isinstance(prior, Fixed) and prior.value == 0.0
    # a value inside the support is still learnt (family_multiplier = 1.0 there)
    assert isinstance(reference_priors(ep, shared)["departure.family_multiplier"], LogNormal)


def test_forecasts_of_the_report_carry_the_grade_s_error():
    """report_points: each member's figure x gives draws (x + 1)·exp(σz) − 1, σ the grade's."""
    import datetime as dt

    from borderflow.calibrate.episode_scores import report_points
    from borderflow.calibrate.scoring import ForecastPoint
    from borderflow.forecast.likelihood import error_sd
    from borderflow.scenario.border_schema import ObservationRow

    obs = ObservationRow(date=dt.date(2021, 6, 1), location="X", indicator="stranded", low=900,
                         high=1100, reliability="C")  # fmt: skip
    members = np.full(200, 999.0)
    pt = ForecastPoint(dt.date(2021, 5, 20), obs, members, None, None)
    (a,), (b,) = report_points([pt], seed=4), report_points([pt], seed=4)
    assert np.array_equal(a.members, b.members)  # seeded
    logs = np.log1p(a.members) - np.log(1000.0)
    assert len(a.members) == 2000 and abs(logs.mean()) < 0.03
    assert logs.std() == pytest.approx(error_sd(obs), rel=0.1)
    # a grade-C report of 1,300–1,500 when the figure is ~1,000: within the reporter's error
    far = ForecastPoint(pt.origin, obs.model_copy(update={"low": 1300, "high": 1500}), members,
                        None, None)  # fmt: skip
    assert not far.covered(0.9) and report_points([far], seed=4)[0].covered(0.9)


def test_the_prior_density_of_a_far_out_point_is_finite_and_exact_near_the_centre() -> None:
    """A proposal far past a bound (expit rounds to 1) gives a finite log prior, no warning."""
    space = Space([Uniform(dist="uniform", low=0.0, high=2.0, why="w")])
    with np.errstate(all="raise"):
        far = space.log_prior(np.array([60.0]))
        near = space.log_prior(np.array([0.3]))
    assert np.isfinite(far) and far < -55.0
    s = 1.0 / (1.0 + math.exp(-0.3))  # density of the uniform (1/2) times the logit's Jacobian
    assert near == pytest.approx(math.log(0.5) + math.log(2.0 * s * (1.0 - s)))
