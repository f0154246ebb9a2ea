"""Departures by threshold (rules/border_depart.py): the daily Bernoulli rule's law, and common
random numbers between variants."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from border_bernoulli import bernoulli_model
from border_factory import write_case
from borderflow.results.headline import ALL_CROSSINGS, FIGURES, figures
from borderflow.rules import border_kernels as K
from borderflow.rules.border import BorderModel
from borderflow.rules.border_depart import Departures
from borderflow.scenario.border_io import read_border_case

# Four classes with different hazards (papers × family), two nationalities, a hazard event, a
# countdown to a deadline, and a last day on which some classes' probability reaches 1.
LAW_CASE = dict(
    stock=3000,
    hazard=0.01,
    groups=[("NAT", 0.6, 0.5, 0.4, "A:0.7;B:0.3"), ("OTH", 0.4, 0.2, 0.6, "A:1")],
    documented_multiplier=1.8,
    family_multiplier=0.5,
    events=[
        ("2025-01-08", "2025-01-12", "hazard", 4.0, "", "", "rush"),
        ("2025-01-25", "", "deadline", 0.5, "", "", "handover"),
        ("2025-01-31", "2025-01-31", "hazard", 100.0, "", "", "last day"),
    ],
)


def test_pointers_give_the_people_whose_threshold_the_hazard_passed():
    """The sorted runs and their growing cap give each day exactly the people whose threshold
    E = -log(1 - U) fell below the class's cumulative hazard H that day (U below
    G = 1 - exp(-H)): checked against every person's threshold, every day, with days of no
    hazard, a huge factor (p = 1 for some classes) and hazards that differ 100-fold."""
    rng = np.random.default_rng(3)
    klass = rng.integers(0, 6, 20_000).astype(np.int16)
    hazard = np.array([1e-4, 5e-4, 1e-3, 3e-3, 1e-2, 0.0])
    factors = [0.0, 1.0, 2.0, 0.0, 5.0, 20.0, 1.0, 50.0, 99.0, 1e4, 1.0]
    departures = Departures(np.uint64(12345), klass, hazard)
    u = K.draws(np.uint64(12345), K.THRESHOLD_DAY, np.arange(len(klass)), K.LEAVE_THRESHOLD)
    np.testing.assert_array_equal(departures.e, -np.log1p(-u))
    cum = np.zeros(len(hazard))
    home = np.ones(len(klass), dtype=bool)
    for factor in factors:
        got = departures.today(factor)
        with np.errstate(divide="ignore"):
            cum -= np.log1p(-np.minimum(hazard * factor, 1.0))
        want = np.flatnonzero(home & (u < -np.expm1(-cum)[klass]))
        np.testing.assert_array_equal(got, want)
        home[got] = False
    assert departures.cap == np.inf  # p = 1 came: everyone is sorted
    assert (home == (klass == 5)).all()  # everyone left but the class with no hazard


class Recorder:
    """Wraps a model's departures and counts the deciders of each class per day."""

    def __init__(self, model: BorderModel) -> None:
        self.model, self.inner = model, model.departures
        self.counts: list[np.ndarray] = []
        self.factors: list[float] = []

    def today(self, factor: float) -> np.ndarray:
        out = self.inner.today(factor)
        klass = self.model.agents.klass
        self.counts.append(np.bincount(klass[out], minlength=len(self.model.hazard)))
        self.factors.append(factor)
        return out


def expected_by_day(hazard: np.ndarray, factors: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Expected deciders (class × day, then a column of those who never leave) under the
    daily Bernoulli rule: ``n_c · Π_{d<t} (1 - p_cd) · p_ct``."""
    p = np.minimum(np.outer(hazard, factors), 1.0)
    home_before = np.cumprod(np.hstack([np.ones((len(hazard), 1)), 1 - p]), axis=1)
    law = np.hstack([home_before[:, :-1] * p, home_before[:, -1:]])
    return sizes[:, None] * law


def chi_square(observed: np.ndarray, expected: np.ndarray) -> tuple[float, int]:
    """Pearson's statistic over the cells expected to hold anyone, and its degrees of freedom
    (one multinomial per class)."""
    cells = expected > 0
    assert (observed[~cells] == 0).all()  # nobody leaves where the law says nobody can
    stat = float((((observed - expected) ** 2)[cells] / expected[cells]).sum())
    return stat, int(cells.sum() - len(expected))


@pytest.mark.slow
def test_departure_days_follow_the_daily_bernoulli_law(tmp_path):
    """Over many seeds, each class's count of deciders per day (and of those who never leave)
    is a multinomial with the daily rule's probabilities: chi-square against exact counts."""
    case = read_border_case(write_case(tmp_path / "case", **LAW_CASE))
    observed = expected = hazard = None
    sizes_total = 0
    for seed in range(150):
        model = BorderModel(case, seed)
        recorder = model.departures = Recorder(model)
        model.run()
        counts = np.array(recorder.counts).T
        sizes = np.bincount(model.agents.klass, minlength=len(model.hazard))
        hazard = model.hazard
        never = sizes - counts.sum(axis=1)
        assert never.sum() == (model.agents.state == K.HOME).sum()
        sizes_total = sizes_total + sizes
        o = np.hstack([counts, never[:, None]])
        e = expected_by_day(hazard, np.array(recorder.factors), sizes)
        observed = o if observed is None else observed + o
        expected = e if expected is None else expected + e
    assert len(set(np.round(hazard, 12))) == 4  # four different hazards
    assert observed[:, -2].sum() > 0 and expected[:, -1].min() == 0  # p = 1 on the last day
    stat, dof = chi_square(observed, expected)
    assert stats.chi2.sf(stat, dof) > 1e-3, (stat, dof)
    # the same test tells a hazard 10 % off (the factors are the same for every seed)
    off = expected_by_day(hazard * 1.1, np.array(recorder.factors), sizes_total)
    stat, dof = chi_square(observed, off)
    assert stats.chi2.sf(stat, dof) < 1e-6


# Queues, refusals, irregular crossings, flights and word of mouth (factors that depend on who
# left before), so that the headline figures depend on the departures in every way they can.
FIGURE_CASE = dict(
    stock=1500,
    hazard=0.004,
    social_weight=0.05,
    preparation_days=3.0,
    groups=[("NAT", 1.0, 0.3, 0.5, "A:0.7;B:0.3")],
    policies=[("A", "entry", "2025-01-01", "", "documented_only", 0, 0.3)],
    stranded={"irregular_per_day": 0.2, "return_per_day": 0.05, "divert_per_day": 0.1},
    events=[
        ("2025-01-10", "2025-01-14", "hazard", 3.0, "", "", "rush"),
        ("2025-01-20", "", "return_flight", 20, "A", "", "flight"),
    ],
    capacity=(60, 10_000),
)


@pytest.mark.slow
def test_headline_figures_have_the_daily_rules_distribution(tmp_path):
    """Two-sample tests over seeds: thresholds against the daily draw, figure by figure."""
    case = read_border_case(write_case(tmp_path / "case", **FIGURE_CASE))
    samples: dict[str, dict[str, list[float]]] = {"threshold": {}, "bernoulli": {}}
    for name, make in (("threshold", BorderModel), ("bernoulli", bernoulli_model)):
        for seed in range(120):
            model = make(case, seed).run()
            result = model.result()
            values = figures(result.series, [ALL_CROSSINGS], 0)
            values[("decided", "")] = float(model.decided.sum())
            values[("mean decision day", "")] = float(
                np.average(np.arange(model.days), weights=model.decided)
            )
            for key, v in values.items():
                samples[name].setdefault(key[0], []).append(v)
    assert set(samples["threshold"]) >= {label for _, label, _, _ in FIGURES}
    for figure, a in samples["threshold"].items():
        b = samples["bernoulli"][figure]
        assert np.std(a) > 0, figure  # a figure that varies, so the test can tell
        p = stats.ks_2samp(a, b).pvalue
        assert p > 1e-3, (figure, p, np.mean(a), np.mean(b))


def test_variants_that_differ_from_a_date_share_everything_before_it(tmp_path):
    """Common random numbers: every series is identical before the date; after it, a higher
    hazard only makes people leave earlier (everyone who left in the quiet run has left)."""
    base = dict(
        stock=3000,
        hazard=0.005,
        social_weight=0.05,
        groups=[("NAT", 1.0, 0.3, 0.5, "A:0.7;B:0.3")],
        policies=[("A", "entry", "2025-01-01", "", "documented_only", 0, 0.3)],
        stranded={"irregular_per_day": 0.2, "return_per_day": 0.05, "divert_per_day": 0.1},
    )
    quiet_case = read_border_case(write_case(tmp_path / "quiet", **base))
    later = dict(base)
    later["policies"] = [
        ("A", "entry", "2025-01-01", "2025-01-14", "documented_only", 0, 0.3),
        ("A", "entry", "2025-01-15", "", "corridor", 0, 0.3),
    ]
    later["events"] = [("2025-01-15", "", "hazard", 3.0, "", "", "rush")]
    rush_case = read_border_case(write_case(tmp_path / "rush", **later))
    quiet, rush = BorderModel(quiet_case, 4).run(), BorderModel(rush_case, 4).run()
    a, b = quiet.result().series, rush.result().series
    date = 14  # 15 January
    assert a.indicators() == b.indicators()
    for indicator in a.indicators():
        if a.places(indicator) == b.places(indicator):
            np.testing.assert_array_equal(a.block(indicator)[:date], b.block(indicator)[:date])
        else:  # roads first used after the date; the ones both used agree before it
            for place in set(a.places(indicator)) & set(b.places(indicator)):
                va, vb = a.values(indicator, place), b.values(indicator, place)
                np.testing.assert_array_equal(va[:date], vb[:date])
    assert rush.decided[date:].sum() > 1.5 * quiet.decided[date:].sum()
    left_quiet = quiet.agents.state != K.HOME
    assert (rush.agents.state[left_quiet] != K.HOME).all()
    assert not np.array_equal(a.block("crossed")[date:], b.block("crossed")[date:])


def test_retuned_thresholds_keep_the_daily_law():
    """After retune (a particle filter's copy), the people still home leave at the new rate.

    One class of 40,000 people at 2 %/day for 5 days, then retuned to 5 %/day with another
    key: each later day's deciders are binomial(home, 0.05) (|z| < 4 each day), those who had
    left keep their thresholds, and no one decides twice.
    """
    from borderflow.rules.border_depart import Departures

    n = 40_000
    klass = np.zeros(n, dtype=np.int16)
    dep = Departures(np.uint64(12345), klass, np.array([0.02]))
    gone: list[int] = []
    for _ in range(5):
        gone.extend(dep.today(1.0).tolist())
    before = dep.e[gone].copy()
    dep.retune(np.uint64(987654321), np.array([0.05]))
    np.testing.assert_array_equal(dep.e[gone], before)
    home = n - len(gone)
    for _ in range(5):
        today = dep.today(1.0)
        z = (len(today) - home * 0.05) / np.sqrt(home * 0.05 * 0.95)
        assert abs(z) < 4, z
        gone.extend(today.tolist())
        home -= len(today)
    assert len(set(gone)) == len(gone)
