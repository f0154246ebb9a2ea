"""Mechanisms of the flee ruleset on small synthetic graphs and on the real scenarios."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from borderflow.engine.agents import Agents
from borderflow.engine.loop import Phase
from borderflow.rules.flee import FleeModel, spawn_schedule
from borderflow.rules.flee_kernels import WAKE_NEVER, capacity_multiplier, geometric_wait
from borderflow.rules.flee_routes import enumerate_candidates
from borderflow.scenario.flee_io import read_flee_scenario
from borderflow.scenario.flee_settings import FleeSettings, load_flee_settings
from borderflow.scenario.locate import builtin_root
from scenario_factory import write_scenario

MALI = builtin_root() / "flee" / "mali"
BURUNDI = builtin_root() / "flee" / "burundi"


def model(path: Path, seed: int = 0, days: int | None = None, settings_file: Path | None = None):
    s = load_flee_settings(settings_file)
    return FleeModel(read_flee_scenario(path, days=days, hasten=s.optimisations.hasten), s, seed)


def line_scenario(tmp: Path, length: float, days: int = 12, **kw) -> Path:
    """Conflict zone A -- camp B: one agent appears at A on day 1."""
    return write_scenario(
        tmp,
        locations=[("A", "conflict_zone", 1000), ("B", "camp", 10_000)],
        routes=[("A", "B", length)],
        camp_series={"B": [(0, 0), (1, 1), (days, 1)]},
        days=days,
        **kw,
    )


class Snapshots:
    """A phase added after ``move`` that keeps a copy of chosen agent arrays every day."""

    def __init__(self, m: FleeModel) -> None:
        self.m = m
        self.link: list[np.ndarray] = []
        self.loc: list[np.ndarray] = []
        m.plan.insert(Phase("snapshot", self, "test probe"), after="move")

    def __call__(self, day: int) -> None:
        self.link.append(self.m.agents.link.copy())
        self.loc.append(self.m.agents.loc.copy())


# -- conservation and reproducibility ------------------------------------------------------


def test_agents_conserved_every_day_on_mali():
    m = model(MALI, seed=3)
    m.run()
    expected = m.schedule.camp_data[0].sum() + np.cumsum(m.schedule.new)
    np.testing.assert_array_equal(m.n_agents, expected)
    np.testing.assert_array_equal(m.history.sum(axis=1) + m.travelling, m.n_agents)
    assert (m.history >= 0).all()
    # Flee's verified property: with default spawning the agents equal the summed camp data.
    np.testing.assert_array_equal(m.n_agents, m.schedule.camp_data.sum(axis=1))


@given(seed=st.integers(0, 2**32 - 1))
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_agents_conserved_for_any_seed(seed):
    m = model(BURUNDI, seed=seed, days=40)
    m.run()
    np.testing.assert_array_equal(m.history.sum(axis=1) + m.travelling, m.n_agents)
    assert len(m.agents) == m.n_agents[-1]


def test_same_seed_identical_different_seed_differs():
    a = model(MALI, seed=11, days=60).run()
    b = model(MALI, seed=11, days=60).run()
    c = model(MALI, seed=12, days=60).run()
    np.testing.assert_array_equal(a.history, b.history)
    np.testing.assert_array_equal(a.agents.loc, b.agents.loc)
    assert not np.array_equal(a.history, c.history)


def test_mali_day0_matches_flee_reference_row():
    """Flee's verified day-0 figures for Mali (deterministic parts of the row)."""
    m = model(MALI, days=1)
    s = m.schedule
    assert int(s.camp_data[0].sum()) == 10838
    assert int(s.raw[0]) == 30913
    assert int(s.debt[0]) == 0
    assert len(m.agents) == 10838


# -- spawning -----------------------------------------------------------------------------


@pytest.mark.slow
@given(st.lists(st.integers(-500, 500), min_size=2, max_size=60))
def test_refugee_debt_closed_form(increments):
    """spawned(t) = max(0, D(t) - debt(t-1)); debt(t) = max(0, debt(t-1) - D(t))."""
    from borderflow.scenario.flee_io import Series

    values = np.cumsum([1000, *increments])
    sc = read_flee_scenario(MALI, days=len(values))
    camp = Series("Mentao", np.arange(len(values)), values.astype(float))
    series = (sc.series[0], camp)
    sc = type(sc)(**{**sc.__dict__, "series": series})
    sched = spawn_schedule(sc, FleeSettings(), ["Mentao"], len(values))
    debt = 0
    for t in range(1, len(values)):
        d = int(values[t] - values[t - 1])
        assert sched.new[t] == max(0, d - debt)
        debt = max(0, debt - d)
        assert sched.debt[t] == debt


def test_spawn_only_at_active_conflict_zones(tmp_path):
    path = write_scenario(
        tmp_path,
        locations=[("A", "conflict_zone", 1000), ("T", "town", 5000), ("B", "camp", 10_000)],
        routes=[("A", "T", 50), ("T", "B", 50)],
        camp_series={"B": [(0, 0), (5, 500)]},
        days=5,
    )
    m = model(path)
    m.run()
    assert set(np.unique(m.agents.home)) == {m.index["A"]}


# -- travel -------------------------------------------------------------------------------


@given(length=st.floats(1.0, 3000.0).map(lambda x: round(x, 1)))
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_travel_time_follows_flee_rule(tmp_path_factory, length):
    """An agent entering a link of L km on day d arrives on day d + floor(L / 360)."""
    path = line_scenario(tmp_path_factory.mktemp("line"), length, days=12)
    m = model(path)
    m.run()
    arrived = np.flatnonzero(m.history[:, m.index["B"]] > 0)
    expected = 1 + math.floor(length / 360.0)
    if length == 360.0 * math.floor(length / 360.0):
        expected = 1 + int(length // 360)  # L a multiple of the speed: arrival needs progress > L
    assert arrived.size and arrived[0] == expected


def test_multi_hop_day_on_short_links(tmp_path):
    """Links shorter than a day's travel are chained within one day (conflict zones always move)."""
    path = write_scenario(
        tmp_path,
        locations=[
            ("A", "conflict_zone", 1000),
            ("C1", "conflict_zone", 10),
            ("C2", "conflict_zone", 10),
            ("B", "camp", 10_000),
        ],
        routes=[("A", "C1", 50), ("C1", "C2", 50), ("C2", "B", 50)],
        camp_series={"B": [(0, 0), (1, 1), (6, 1)]},
        days=6,
    )
    m = model(path)
    m.run()
    # On day 1 the agent leaves A; with move chance 1 at every conflict zone it keeps moving
    # while it has covered less than 360 km: it is somewhere on the line, never on a link.
    assert m.travelling[1] == 0
    assert m.agents.hops[-1] >= 1


# -- closures -----------------------------------------------------------------------------


def closure_scenario(tmp: Path, kind: str, a: str, b: str, start: int, end: int) -> Path:
    return write_scenario(
        tmp,
        locations=[
            ("A", "conflict_zone", 1000),
            ("T", "town", 1000),
            ("B", "camp", 100_000),
        ],
        routes=[("A", "T", 400), ("T", "B", 400)],
        camp_series={"B": [(0, 0), (30, 3000)]},
        days=30,
        closures=[(kind, a, b, start, end)],
        countries={"B": "Abroad"},
    )


@pytest.mark.parametrize(
    ("kind", "a", "b", "closed_pair"),
    [
        ("link", "A", "T", ("A", "T")),
        ("link", "T", "A", ("A", "T")),  # link closures act in both directions (a fix)
        ("location", "T", "", ("A", "T")),
        ("country", "Home", "Abroad", ("T", "B")),
    ],
)
def test_nobody_enters_a_closed_link(tmp_path, kind, a, b, closed_pair):
    start, end = 5, 20
    m = model(closure_scenario(tmp_path, kind, a, b, start, end))
    snaps = Snapshots(m)
    m.run()
    i, j = (m.index[x] for x in closed_pair)
    closed = np.concatenate([m.graph.links_between(i, j), m.graph.links_between(j, i)])
    assert closed.size == 2
    on_before = set(np.flatnonzero(np.isin(snaps.link[start - 1], closed)))
    for day in range(start, end):
        on_now = set(np.flatnonzero(np.isin(snaps.link[day], closed)))
        assert on_now <= on_before, f"day {day}: agents entered a closed link"
    # After reopening, the link is used again.
    used_later = any(np.isin(snaps.link[d], closed).any() for d in range(end, 30))
    assert used_later


def test_closed_link_bounces_travellers_back(tmp_path):
    """A link closed under a traveller returns it to the link's start on arrival."""
    m = model(closure_scenario(tmp_path, "link", "A", "T", 3, -1))
    snaps = Snapshots(m)
    m.run()
    ab = m.graph.links_between(m.index["A"], m.index["T"])
    travellers = np.flatnonzero(np.isin(snaps.link[2], ab))
    assert travellers.size > 0
    assert (snaps.loc[-1][travellers] == m.index["A"]).all()
    assert (snaps.link[-1][travellers] == -1).all()


def test_camp_closure_turns_camp_into_town(tmp_path):
    path = closure_scenario(tmp_path, "camp", "B", "", 2, 6)
    m = model(path)
    seen = []
    m.plan.insert(
        Phase("probe", lambda d: seen.append(bool(m.is_camp_now[m.index["B"]]))), after="move"
    )
    m.run()
    assert seen[:2] == [True, True]
    assert not any(seen[2:6])
    assert all(seen[6:])


# -- leave-or-stay draws: a geometric wait instead of a daily draw -------------------------


@pytest.mark.parametrize("p", [0.001, 0.05, 0.3, 0.9])
def test_geometric_wait_has_the_daily_draws_distribution(p):
    """The wait from a failed daily Bernoulli(p) draw to the next success: P(W > k) = (1-p)^k."""
    u = np.random.default_rng(7).random(40_000)
    w = np.array([geometric_wait.py_func(p, x) for x in u])
    assert w.min() >= 1
    for k in (1, 2, 5, int(1 / p)):
        expected = (1 - p) ** k
        sd = math.sqrt(expected * (1 - expected) / len(w))
        assert abs(np.mean(w > k) - expected) <= 5 * sd + 1e-12
    assert geometric_wait.py_func(0.0, 0.5) == WAKE_NEVER


def test_agents_leave_a_place_at_its_daily_chance_when_it_changes(tmp_path):
    """Resting agents leave with the place's move chance each day, also after it changes.

    20,000 agents at B (a camp whose only road, to C, is long) and B's move chance 0.2 on days
    0-4, then 0.5: each day's leavers are Binomial(agents still at B, chance of the day).
    Agents that stayed hold a drawn day of their next move; the change must redraw it.
    """
    path = write_scenario(
        tmp_path,
        locations=[("A", "conflict_zone", 1000), ("B", "camp", 10**6), ("C", "camp", 10**6)],
        routes=[("A", "B", 5000.0), ("B", "C", 5000.0)],
        camp_series={"B": [(0, 0), (1, 1), (10, 1)], "C": [(0, 0), (10, 0)]},
        days=10,
    )
    m = model(path, seed=3)
    b = m.index["B"]
    m.set_counts(0, {"B": 20_000})
    chance = [0.2] * 5 + [0.5] * 5
    m.plan.insert(Phase("chance", lambda d: m.movechance.__setitem__(b, chance[d])), before="move")
    m.run()
    at_b = np.concatenate([[20_000], m.history[:, b]])
    for d, p in enumerate(chance):
        n, left = at_b[d], at_b[d] - at_b[d + 1]
        assert abs(left - n * p) <= 5 * math.sqrt(n * p * (1 - p)), (d, n, left)


# -- capacity -----------------------------------------------------------------------------


@given(
    n=st.floats(0, 2000),
    cap=st.floats(0, 1000),
    buffer=st.floats(0.0, 0.99),
)
def test_capacity_multiplier_is_flees_ramp(n, cap, buffer):
    c = capacity_multiplier(n, cap, buffer)
    if cap < 1 or n <= buffer * cap:
        assert c == 1.0
    elif n >= cap:
        assert c == 0.0
    else:
        assert c == pytest.approx(1 - (n - buffer * cap) / (cap * (1 - buffer)))
        assert 0.0 <= c <= 1.0


def test_capacity_ramp_stops_arrivals(tmp_path):
    """With room for 100 and 100 already there, no newcomer ever reaches the camp.

    Flee head's day-0 capacity cut (rule ``day0_capacity_cut``) makes the room 100.
    """
    path = write_scenario(
        tmp_path,
        locations=[
            ("A", "conflict_zone", 1000),
            ("T", "town", 1000),
            ("C", "camp", 200),
            ("D", "camp", 100_000),
        ],
        routes=[("A", "C", 30), ("A", "T", 30), ("T", "D", 30)],
        camp_series={"C": [(0, 100), (40, 100)], "D": [(0, 0), (40, 2000)]},
        days=40,
        # nobody leaves C to make room
        settings="compatibility: head\nmove_rules:\n  camp_movechance: 0.0\n",
    )
    m = model(path, settings_file=path / "simsetting.yml")
    # capacity 200 minus the day-0 population 100 leaves room for 100, and 100 are there.
    snaps = Snapshots(m)
    m.run()
    c = m.index["C"]
    assert m.capacity[c] == 100
    # The first 100 agents are the camp's day-0 population; everyone after is a newcomer.
    newcomers = [
        int(((snaps.loc[d][100:] == c) & (snaps.link[d][100:] < 0)).sum()) for d in range(40)
    ]
    assert max(newcomers) == 0
    assert m.history[:, c].max() <= 100
    assert m.history[-1, m.index["D"]] > 1000  # they went elsewhere


# -- route candidates -----------------------------------------------------------------------


def test_candidates_by_awareness_and_markers(tmp_path):
    path = write_scenario(
        tmp_path,
        locations=[
            ("A", "conflict_zone", 10),
            ("M", "marker", 0),
            ("B", "town", 10),
            ("C", "camp", 100),
        ],
        routes=[("A", "M", 10), ("M", "B", 10), ("B", "C", 10)],
        camp_series={"C": [(0, 0), (2, 1)]},
        days=2,
    )
    m = model(path)
    g = m.graph
    marker = m.is_marker

    def ends(level: int, origin: str) -> list[str]:
        c = enumerate_candidates(g, marker, level)
        o = m.index[origin]
        return [g.names[e] for e in c.end[c.by_origin[o] : c.by_origin[o + 1]]]

    assert ends(1, "A") == ["B"]  # the marker is passed through, never a destination
    assert ends(2, "A") == ["B", "C"]
    assert sorted(ends(2, "B")) == ["A", "C"]
    assert ends(1, "C") == ["B"]


def test_agents_store_is_struct_of_arrays():
    a = Agents({"x": (np.dtype(np.int8), 7)}, capacity=2)
    a.add(3, loc=np.array([1, 2, 3]))
    a.add(2)
    assert len(a) == 5
    assert a.loc.tolist() == [1, 2, 3, -1, -1]
    assert a.x.tolist() == [7] * 5
    assert a.nbytes_per_agent() == 4 + 4 + 1


# -- start-up ------------------------------------------------------------------------------


def test_kernels_load_without_scipy_blas_and_scipy_still_works(tmp_path):
    """A kernel compiles without SciPy's BLAS, and loads from the cache without numba's
    registries (0.3 s of start-up each); SciPy stays usable. The first process compiles into
    an empty cache, the second loads from it."""
    import os
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import numpy as np\n"
        "from borderflow.engine.rng_kernels import choice\n"
        "print(choice(np.random.default_rng(1), np.array([0.2, 0.5, 0.3]), 8).tolist())\n"
        "print('scipy.linalg' in sys.modules, 'numba.np.linalg' in sys.modules)\n"
        "import scipy.linalg\n"
        "print(scipy.linalg.cython_blas is not None)\n"
    )
    env = {**os.environ, "BORDERFLOW_CACHE_DIR": str(tmp_path)}
    runs = [
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True, text=True, timeout=300, check=True, env=env,
        ).stdout.splitlines()
        for _ in range(2)
    ]  # fmt: skip
    compiled, cached = runs
    assert compiled[0] == cached[0]
    assert compiled[1:] == ["False True", "True"]  # compiling loads the registries
    assert cached[1:] == ["False False", "True"]  # loading from the cache does not
