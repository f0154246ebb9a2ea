"""Place-and-people mechanisms of issue 12 on small synthetic cases (tests/border_factory.py).

Road modes with their speeds, moves to shelters from cities and split between shelters, people
leaving shelters, removals (repeating), an inflow into the population at risk and crowds
present on a date; every run checks that the states add up to the population so far.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from border_factory import PLACES, ROUTES, write_case
from borderflow.errors import ScenarioError
from borderflow.rules import border_kernels as K
from borderflow.rules.border import BorderModel
from borderflow.rules.border_depart import Departures
from borderflow.rules.border_indicators import CrossingCount as C
from borderflow.scenario.border_io import read_border_case

CLOSED_A = [("A", "entry", "2025-01-01", "", "closed", 0, 1.0)]
TWO_SHELTERS = [*PLACES, ("S2", "HOM", "shelter", -18.47, -70.32)]
ROUTES_S2 = [*ROUTES, ("C", "S2", 6, "bus")]


def run(tmp_path, seed: int = 1, until=None, **kw) -> BorderModel:
    case = read_border_case(write_case(tmp_path / "case", **kw))
    m = BorderModel(case, seed, until=until).run()
    assert_conserved(m)
    return m


def tally(m: BorderModel, indicator: str, location: str) -> np.ndarray:
    return m.tally.data[indicator][location]


def assert_conserved(m: BorderModel) -> None:
    """Every evening the states add up to the stock plus everyone who joined so far."""
    joined = np.zeros(m.days, dtype=np.int64)
    for indicator in ("inflow", "crowd"):
        for values in m.tally.data.get(indicator, {}).values():
            joined += values
    population = m.spec.population.stock.value + np.cumsum(joined)
    np.testing.assert_array_equal(m.state_counts.sum(axis=1), population)
    assert (m.state_counts >= 0).all()


def test_a_ferry_leg_at_its_own_speed_sets_the_arrival_day(tmp_path):
    # everyone decides on day 0 and sets off at once: 500 km by bus (half a day), then 20 km
    ferry = [("C", "XA", 20, "ferry") if r[:2] == ("C", "XA") else r for r in ROUTES]
    kw = dict(hazard=1.0, preparation_days=0.0, routes=ferry)
    slow = run(tmp_path / "slow", travel={"ferry_km_per_day": 10.0}, **kw)
    fast = run(tmp_path / "fast", travel={"ferry_km_per_day": 20.0}, **kw)
    bus = run(tmp_path / "bus", hazard=1.0, preparation_days=0.0)
    # half a day left for 20 km: by bus the same day; at 20 km/day the next; at 10 the day after
    for m, day in ((bus, 0), (fast, 1), (slow, 2)):
        arrived = m.at_crossing[:, 0, C.ARRIVED]
        assert arrived[day] == 2000 and arrived.sum() == 2000, day


def test_a_shelter_move_splits_by_the_shares(tmp_path):
    m = run(
        tmp_path,
        policies=CLOSED_A,
        places=TWO_SHELTERS,
        routes=ROUTES_S2,
        events=[("2025-01-10", "", "shelter", 0, "A", "S:0.6;S2:0.4", "move")],
    )
    day = 9
    moved = m.at_crossing[day, 0, C.SHELTERED_MOVED]
    assert moved > 100
    s, s2 = tally(m, "moved_in", "S")[day], tally(m, "moved_in", "S2")[day]
    assert s + s2 == moved and abs(s - 0.6 * moved) <= 1
    assert m.sheltered[day, m.index["S"]] == s and m.sheltered[day, m.index["S2"]] == s2
    assert tally(m, "moved_in", "S").sum() == s  # once, on its start: no end date


def test_a_shelter_move_from_a_city_takes_its_waiting_people(tmp_path):
    case = read_border_case(
        write_case(
            tmp_path / "case",
            hazard=0.0,
            events=[("2025-01-01", "", "shelter", 20, "C", "S", "city-move")],
        )
    )
    m = BorderModel(case, 1)
    # people stopped in city C (a blockade or news holds them: the mechanisms of issue 12)
    waiting = np.arange(50, dtype=np.int64)
    m.arrays.state[waiting] = K.WAITING_CITY
    m.arrays.loc[waiting] = m.index["C"]
    m.live = waiting
    m.calendar(0)
    m.place_events.night(0)
    moved = waiting[m.arrays.state[waiting] == K.SHELTERED]
    assert len(moved) == 20 and (m.arrays.loc[moved] == m.index["S"]).all()
    assert tally(m, "moved_in", "S")[0] == 20


@pytest.mark.parametrize("to", ["C", "home", "onward", "A"])
def test_a_daily_share_leaves_the_shelter(tmp_path, to):
    m = run(
        tmp_path,
        hazard=0.0,
        events=[
            ("2025-01-01", "", "crowd", 1000, "S", "", "in-shelter"),
            ("2025-01-01", "2025-01-10", "shelter_exit", 0.1, "S", to, "leave"),
        ],
    )
    sheltered = m.sheltered[:, m.index["S"]]
    exited = tally(m, "exited", "S")
    before = np.concatenate([[1000], sheltered[:-1]])
    np.testing.assert_array_equal(exited, before - sheltered)
    # 10 % a day for ten days (binomial): 1000·(1 − 0.9^10) ≈ 651 leave, sd ≈ 15
    assert abs(exited.sum() - 1000 * (1 - 0.9**10)) < 60
    assert exited[10:].sum() == 0  # nobody leaves after the end
    final = m.state_counts[-1]
    if to == "A":  # they travel to crossing A's exit post, queue and cross (open)
        assert m.at_crossing[:, 0, C.ARRIVED].sum() == exited.sum()
        assert final[K.ARRIVED] == exited.sum()
    else:
        state = K.ARRIVED if to == "onward" else K.RETURNED
        assert final[state] == exited.sum()
        if to != "onward":
            place = m.index["C" if to == "C" else "R"]
            assert (m.arrays.loc[m.arrays.state == K.RETURNED] == place).all()


def test_a_removal_every_n_days_takes_at_most_its_seats(tmp_path):
    m = run(
        tmp_path,
        policies=CLOSED_A,
        events=[("2025-01-10", "2025-01-25", "removal", 30, "A", "", "buses", 5)],
    )
    removed = tally(m, "removed", "A")
    days = [9, 14, 19, 24]
    assert np.flatnonzero(removed).tolist() == days
    stranded_before = m.at_crossing[:, 0, C.STRANDED]  # counted before the removal, at night
    for d in days:
        assert removed[d] == min(30, stranded_before[d])
    assert m.state_counts[-1, K.FLOWN] == removed.sum() == 120


def test_a_removal_takes_people_who_already_arrived(tmp_path):
    # Ceuta 2021: people who had entered were returned within days
    m = run(tmp_path, events=[("2025-01-20", "", "removal", 0, "DA", "", "returned")])
    removed = tally(m, "removed", "DA")
    # those who crossed by day 18 are there on day 19 (50 km onward, at 1,000 km a day)
    arrived_by_then = m.state_counts[18, K.ARRIVED] + m.state_counts[18, K.ONWARD]
    assert removed[19] == arrived_by_then > 100  # 0 seats: everyone there
    assert m.state_counts[19, K.ARRIVED] == 0
    assert m.state_counts[19, K.FLOWN] == removed[19]


def test_an_inflow_adds_exactly_its_people_and_they_decide_from_their_day(tmp_path):
    kw = dict(
        stock=1,
        hazard=0.05,
        events=[
            ("2025-01-11", "2025-01-11", "inflow", 20000, "R", "", "wave"),
            ("2025-01-03", "2025-01-12", "inflow", 2.5, "", "", "trickle"),
            ("2025-01-02", "", "crowd", 3000, "C", "A", "left-home-already"),
        ],
    )
    m = run(tmp_path, **kw)
    crowd = np.arange(1, 3001)  # newcomers' rows follow the stock by day: the crowd is first
    assert m.departed.sum() == m.decided.sum() <= 20026  # a crowd never decides to leave
    assert (m.arrays.state[crowd] == K.ARRIVED).all()
    inflow = tally(m, "inflow", "R")  # R is the only home region: both events count there
    assert inflow.sum() == 20025 and inflow[10] == 20000 + 3
    assert inflow[2:12].tolist() == [3, 2] * 4 + [20003, 2]  # 2.5 a day: halves round up
    assert len(m.agents) == 23026 and m.stock == 23026
    # nobody decides before joining; then 5 % a day of those still at home
    assert m.decided[:10].sum() <= 25
    assert abs(m.decided[10] - 1000) < 4 * np.sqrt(1000 * 0.95)
    assert abs(m.decided[11] - 950) < 4 * np.sqrt(950 * 0.95)
    early = run(tmp_path / "early", until=read_border_case(tmp_path / "case").spec.case.start, **kw)
    assert len(early.live) <= 1  # at most the stock's one person


def test_people_held_for_an_inflow_stay_held_when_retuned():
    klass = np.zeros(10_000, dtype=np.int16)
    held = np.arange(5_000, 10_000)
    dep = Departures(np.uint64(7), klass, np.array([0.2]))
    dep.hold(held)
    first = dep.today(1.0)
    dep.retune(np.uint64(8), np.array([0.2]))  # a particle filter's copy goes on
    later = np.concatenate([dep.today(1.0) for _ in range(5)])
    assert first.max() < 5_000 and later.max() < 5_000
    h = dep.cum[0]
    dep.join(5_000, 5_000)  # joining at H: thresholds H + E, E exponential
    assert 0 < h < np.inf and (dep.e[held] >= h).all()
    decided = dep.today(1.0)
    joined = (decided >= 5_000).sum()  # a fifth of them, as on a fresh class's first day
    assert abs(joined - 1_000) < 4 * np.sqrt(5_000 * 0.2 * 0.8)


def test_people_who_join_late_still_decide_after_a_long_high_hazard():
    """A class whose cumulative hazard is far past 37 (where 1 - exp(-H) is 1 in floating
    point) still lets newcomers decide at the daily rate: thresholds live on the hazard scale."""
    klass = np.zeros(20_000, dtype=np.int16)
    late = np.arange(10_000, 20_000)
    dep = Departures(np.uint64(3), klass, np.array([0.5]))
    dep.hold(late)
    for _ in range(100):  # H = 100 · log 2 ≈ 69
        dep.today(1.0)
    assert dep.cum[0] > 60
    dep.join(10_000, 10_000)
    first = dep.today(1.0)
    assert abs(len(first) - 5_000) < 4 * np.sqrt(10_000 * 0.25)  # half of them, as on day one
    second = dep.today(1.0)
    assert abs(len(second) - 2_500) < 4 * np.sqrt(5_000 * 0.25)
    # a day with p = 1 takes everyone still at home, and people who join after it still decide
    dep.hazard = np.array([1.0])
    assert len(dep.today(1.0)) == 10_000 - len(first) - len(second)
    dep.hazard = np.array([0.5])
    more = np.arange(2_000)
    dep.hold(more)
    dep.join(0, 2_000)
    assert abs(len(dep.today(1.0)) - 1_000) < 4 * np.sqrt(2_000 * 0.25)  # half, the first day


def test_crowds_are_present_on_their_start(tmp_path):
    m = run(
        tmp_path,
        stock=1,
        hazard=0.0,
        policies=CLOSED_A,
        events=[
            ("2025-01-04", "", "crowd", 500, "A", "", "between-posts"),
            ("2025-01-04", "", "crowd", 200, "XA", "", "at-exit-post"),
            ("2025-01-04", "", "crowd", 300, "C", "B", "in-town"),
            ("2025-01-04", "", "crowd", 400, "S", "", "in-shelter"),
        ],
    )
    day = 3
    assert m.state_counts[day - 1].sum() == 1 and m.state_counts[day].sum() == 1401
    # the queue is served (and refused: closed) on the day; the stranded are there at night
    assert m.at_crossing[day, 0, C.REFUSED] == 200
    assert m.at_crossing[day, 0, C.STRANDED] == 700
    assert m.at_crossing[day, 0, C.ARRIVED] == 0  # they were there already
    assert m.at_crossing[day, 1, C.ARRIVED] == 300  # set off from C: 300 km by bus, same day
    assert m.sheltered[day, m.index["S"]] == 400
    assert tally(m, "crowd", "C")[day] == 300


def test_a_blockade_holds_a_city_crowd_that_a_shelter_takes_in_and_lets_go(tmp_path):
    # Necoclí 2021 in small: a crowd in town cannot go on; it is sheltered, then let go
    m = run(
        tmp_path,
        stock=1,
        hazard=0.0,
        events=[
            ("2025-01-01", "2025-01-20", "blockade", 1, "A", "", "blocked"),
            ("2025-01-04", "", "crowd", 300, "C", "A", "in-town"),
            ("2025-01-07", "", "shelter", 0, "C", "S", "to-shelter"),
            ("2025-01-22", "2025-01-22", "shelter_exit", 1.0, "S", "A", "let-go"),
        ],
    )
    assert m.state_counts[3, K.WAITING_CITY] == 300  # held in C from the day they appear
    assert tally(m, "moved_in", "S")[6] == 300 and m.sheltered[6, m.index["S"]] == 300
    assert tally(m, "exited", "S")[21] == 300
    assert m.at_crossing[22, 0, C.ARRIVED] == 300  # they leave at night, 25 km the next day
    assert m.state_counts[-1, K.ARRIVED] == 300


def test_today_s_cases_write_no_new_indicator(tmp_path):
    m = run(tmp_path, policies=CLOSED_A, events=[("2025-01-10", "", "shelter", 0, "A", "S", "s")])
    assert m.tally.data == {}
    assert "moved_in" not in m.result().series.indicators()


@pytest.mark.parametrize(
    ("file", "old", "new", "column", "phrase"),
    [
        ("routes.csv", "C,XA,20,bus", "C,XA,20,ferry", "mode", "no speed"),
        ("events.csv", "S:0.6;S2:0.4", "S:0.6;S2:0.3", "to", "sum to"),
        ("events.csv", "0,A,S:0.6;S2:0.4", "0,A,R", "to", "'R' is not a shelter"),
        ("events.csv", "shelter,0,A", "shelter,0,R", "target", "not a crossing or city"),
        ("events.csv", "removal,5,A", "removal,5,R", "target", "'R' is not a crossing"),
        ("events.csv", "2025-01-09,inflow", ",inflow", "end", "needs an end"),
        ("events.csv", ",crowd", "2025-01-09,crowd", "end", "takes no end"),
        ("events.csv", "crowd,9,C,B", "crowd,9,C,", "to", "not a crossing"),
        ("events.csv", "r,test,A,", "r,test,A,3", "every_days", "needs an end"),
        ("events.csv", "exit,0.1", "exit,1.5", "value", "daily share"),
    ],
)
def test_bad_place_inputs_name_file_row_and_field(tmp_path, file, old, new, column, phrase):
    root = write_case(
        tmp_path / "case",
        places=TWO_SHELTERS,
        routes=ROUTES_S2,
        events=[
            ("2025-01-05", "", "shelter", 0, "A", "S:0.6;S2:0.4", "s", ""),
            ("2025-01-05", "", "removal", 5, "A", "", "r", ""),
            ("2025-01-05", "2025-01-09", "inflow", 5, "", "", "i", ""),
            ("2025-01-05", "", "crowd", 9, "C", "B", "c", ""),
            ("2025-01-05", "", "shelter_exit", 0.1, "S", "C", "e", ""),
        ],
    )
    read_border_case(root)  # valid as written
    text = (root / file).read_text()
    assert text.count(old) == 1, old
    (root / file).write_text(text.replace(old, new))
    with pytest.raises(ScenarioError) as info:
        read_border_case(root)
    e = info.value
    assert e.file.endswith(file) and e.row is not None
    assert e.column == column, e.message
    assert phrase in e.message, e.message


def test_a_variant_s_place_event_is_checked_too(tmp_path):
    root = write_case(
        tmp_path / "case",
        variants="""
[variants.response]
default = "none"
[variants.response.options.none]
description = "nothing"
[variants.response.options.buses]
description = "buses from the residence"
events = [{ start = 2025-01-05, kind = "removal", value = 5, target = "R" }]
""",
    )
    read_border_case(root)
    with pytest.raises(ScenarioError) as info:
        read_border_case(root, {"response": "buses"})
    assert info.value.file.endswith("scenario.toml")
    assert info.value.column == "variants.response.options.buses.events.0.target"


def test_a_bad_place_input_exits_2_without_a_traceback(tmp_path):
    ferry = [("C", "XA", 20, "ferry") if r[:2] == ("C", "XA") else r for r in ROUTES]
    root = write_case(tmp_path / "case", routes=ferry)
    env = {**os.environ, "COLUMNS": "300"}
    res = subprocess.run(
        [sys.executable, "-m", "borderflow", "run", str(root), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=env,
    )
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert "routes.csv" in res.stderr and "ferry_km_per_day" in res.stderr
    assert not (tmp_path / "out").exists()


def test_a_shelter_exit_to_another_shelter_moves_its_people_there(tmp_path):
    """Tijuana 2018: the Benito Juárez shelter's people moved to El Barretal. They stay
    sheltered, now counted at the second shelter, and conservation holds."""
    m = run(
        tmp_path,
        hazard=0.0,
        places=TWO_SHELTERS,
        routes=ROUTES_S2,
        events=[
            ("2025-01-01", "", "crowd", 1000, "S", "", "in-shelter"),
            ("2025-01-03", "2025-01-06", "shelter_exit", 0.5, "S", "S2", "move"),
        ],
    )
    first, second = m.sheltered[:, m.index["S"]], m.sheltered[:, m.index["S2"]]
    moved = tally(m, "moved_in", "S2")
    np.testing.assert_array_equal(first + second, np.full(len(first), 1000))
    assert second[-1] == moved.sum() == tally(m, "exited", "S").sum()
    assert abs(second[-1] - 1000 * (1 - 0.5**4)) < 60  # half a day for four days
    assert_conserved(m)


def test_two_exit_rows_from_one_shelter_each_take_their_share(tmp_path):
    """Rows act in order, each on the people still there, with draws of their own: a 5 % row
    after a 10 % row takes 5 % of the rest (one shared draw let it take nobody)."""
    m = run(
        tmp_path,
        hazard=0.0,
        events=[
            ("2025-01-01", "", "crowd", 4000, "S", "", "in-shelter"),
            ("2025-01-01", "2025-01-10", "shelter_exit", 0.1, "S", "home", "first"),
            ("2025-01-01", "2025-01-10", "shelter_exit", 0.05, "S", "onward", "second"),
        ],
    )
    final = m.state_counts[-1]
    stay = (1 - 0.1) * (1 - 0.05)  # ten days at both rows
    home = 4000 * 0.1 * (1 - stay**10) / (1 - stay)
    onward = 4000 * 0.9 * 0.05 * (1 - stay**10) / (1 - stay)
    assert abs(final[K.RETURNED] - home) < 4 * np.sqrt(home)
    assert abs(final[K.ARRIVED] - onward) < 4 * np.sqrt(onward)


def test_a_transfer_between_shelters_counts_moves_in_at_both(tmp_path):
    """Tijuana 2018: Benito Juárez filled from the port, then emptied into El Barretal. Both
    shelters get a moved_in series (the one filled from its crossing too)."""
    m = run(
        tmp_path,
        policies=CLOSED_A,
        places=TWO_SHELTERS,
        routes=ROUTES_S2,
        events=[
            ("2025-01-10", "2025-01-20", "shelter", 0, "A", "S", "fill"),
            ("2025-01-21", "2025-01-25", "shelter_exit", 0.3, "S", "S2", "move"),
        ],
    )
    into_s, into_s2 = tally(m, "moved_in", "S"), tally(m, "moved_in", "S2")
    assert into_s.sum() == m.at_crossing[:, 0, C.SHELTERED_MOVED].sum() > 0
    assert into_s2.sum() == tally(m, "exited", "S").sum() > 0
    assert m.sheltered[-1, m.index["S2"]] == into_s2.sum()
