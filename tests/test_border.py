"""Mechanisms of the border-crisis ruleset on a small synthetic case (tests/border_factory.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from border_factory import write_case
from borderflow.errors import ScenarioError
from borderflow.rules import border_kernels as K
from borderflow.rules.border import BorderModel
from borderflow.rules.border_indicators import CrossingCount as C
from borderflow.rules.border_result import need_values, needs_table
from borderflow.scenario.border_io import read_border_case

STRANDED = C.STRANDED


def run(tmp_path, seed: int = 1, variant: dict | None = None, **kw) -> BorderModel:
    case = read_border_case(write_case(tmp_path / "case", **kw), variant)
    return BorderModel(case, seed).run()


def totals(m: BorderModel, name: str, k: int = 0) -> int:
    return int(m.at_crossing[:, k, C[name.upper()]].sum())


def test_people_are_conserved_through_every_state(tmp_path):
    m = run(
        tmp_path,
        policies=[("A", "entry", "2025-01-01", "", "documented_only", 0, 0.5)],
        groups=[("NAT", 1.0, 0.3, 0.5, "A:0.7;B:0.3")],
        stranded={"irregular_per_day": 0.2, "return_per_day": 0.05, "divert_per_day": 0.1},
        events=[("2025-01-20", "", "return_flight", 30, "A", "", "f")],
        bus_km_per_day=300.0,  # a two-day journey, so people are seen on the road at night
    )
    assert (m.state_counts.sum(axis=1) == len(m.agents)).all()
    assert len(m.agents) == 2000
    # every state was visited by someone in this run
    visited = (m.state_counts > 0).any(axis=0)
    for state in (K.HOME, K.TRAVELLING, K.STRANDED, K.ONWARD, K.ARRIVED, K.FLOWN):
        assert visited[state], K.State(state).label


def test_closed_post_lets_nobody_through_and_strands_all(tmp_path):
    m = run(tmp_path, policies=[("A", "entry", "2025-01-01", "", "closed", 0, 1.0)])
    assert totals(m, "crossed") == 0
    assert totals(m, "arrived") > 100
    # everyone who reached the post and was processed is stranded (nobody leaves: no options)
    assert totals(m, "refused") == totals(m, "arrived") - m.at_crossing[-1, 0, C.WAITING]
    assert m.at_crossing[-1, 0, STRANDED] == totals(m, "refused")
    assert m.state_counts[:, K.ONWARD].max() == 0 and m.state_counts[:, K.ARRIVED].max() == 0


def test_citizens_of_the_entry_country_always_enter(tmp_path):
    m = run(
        tmp_path,
        policies=[("A", "entry", "2025-01-01", "", "closed", 0, 1.0)],
        groups=[("AAA", 0.5, 0.0, 0.0, "A:1"), ("NAT", 0.5, 0.0, 0.0, "A:1")],
    )
    a = m.agents
    crossed = (a.state == K.ONWARD) | (a.state == K.ARRIVED)
    assert crossed.any()
    assert (a.klass[crossed] // 4 == 0).all()  # all of them AAA nationals


@pytest.mark.parametrize("quota", [0, 5, 40])
def test_quota_passes_at_most_n_a_day(tmp_path, quota):
    m = run(tmp_path, policies=[("A", "entry", "2025-01-01", "", "quota", quota, 1.0)])
    per_day = m.at_crossing[:, 0, C.CROSSED] + m.at_crossing[:, 0, C.CORRIDOR]
    assert per_day.max() <= quota
    if quota == 5:
        assert per_day.max() == quota  # ~25 arrive a day: a quota of 5 binds


def test_humanitarian_corridor_empties_the_stranded(tmp_path):
    m = run(
        tmp_path,
        hazard=0.02,
        end="2025-01-20",
        policies=[
            ("A", "entry", "2025-01-01", "2025-01-12", "closed", 0, 1.0),
            ("A", "entry", "2025-01-13", "", "corridor", 0, 0.0),
        ],
    )
    before = m.at_crossing[11, 0, STRANDED]
    assert before > 50
    assert m.at_crossing[12:, 0, STRANDED].max() == 0
    assert totals(m, "corridor") == before  # everyone stranded left by the corridor


def test_readmission_sends_people_back(tmp_path):
    kw = dict(
        policies=[
            ("A", "entry", "2025-01-01", "", "closed", 0, 1.0),
            ("A", "exit", "2025-01-10", "", "open", 0, 0.0),
        ],
        stranded={"readmitted_per_day": 0.5},
    )
    m = run(tmp_path, **kw)
    assert totals(m, "readmitted") > 0
    assert m.at_crossing[:9, 0, C.READMITTED].sum() == 0  # not before it starts
    assert m.state_counts[-1, K.RETURNED] + m.state_counts[-1, K.RETURNING] == totals(
        m, "readmitted"
    )
    returned = m.agents.state == K.RETURNED
    assert (m.agents.loc[returned] == m.index["C"]).all()  # back in the last city


def test_opening_hours_and_capacity_delay_but_never_lose_anyone(tmp_path):
    free = run(tmp_path / "a", seed=3, policies=[("A", "entry", "2025-01-01", "", "open", 0, 0.0)])
    tight = run(
        tmp_path / "b",
        seed=3,
        policies=[("A", "entry", "2025-01-01", "", "open", 0, 0.0)],
        hours=(8.0, 12.0),
        capacity=(25, 10_000),
    )
    # Same people arrive (common random numbers), but later crossings and queues appear.
    np.testing.assert_array_equal(free.departed, tight.departed)
    assert tight.at_crossing[:, 0, C.CROSSED].max() <= 25
    assert tight.at_crossing[:, 0, C.WAITING].max() > 0
    arrived = totals(tight, "arrived")
    crossed = totals(tight, "crossed")
    waiting = tight.at_crossing[-1, 0, C.WAITING]
    assert crossed + waiting == arrived  # nobody lost
    assert totals(tight, "refused") == 0


def test_needs_follow_the_sphere_standards(tmp_path):
    m = run(tmp_path, policies=[("A", "entry", "2025-01-01", "", "closed", 0, 1.0)])
    names, people, children = needs_table(m)
    needs = need_values(m, people)
    np.testing.assert_allclose(needs["shelter_m2"], 3.5 * people)
    np.testing.assert_allclose(needs["water_l"], 15 * people)
    np.testing.assert_allclose(needs["food_kcal"], 2100 * people)
    np.testing.assert_array_equal(needs["latrines"], np.ceil(people / 20))
    assert (children <= people).all()
    assert names[:2] == ["A", "B"] and "S" in names


def test_shelter_and_return_flight_events(tmp_path):
    m = run(
        tmp_path,
        policies=[("A", "entry", "2025-01-01", "", "closed", 0, 1.0)],
        events=[
            ("2025-01-15", "", "return_flight", 40, "A", "", "flight"),
            ("2025-01-20", "", "shelter", 0, "A", "S", "to-shelter"),
        ],
    )
    assert m.at_crossing[14, 0, C.FLOWN] == 40
    assert m.at_crossing[19, 0, STRANDED] > 0
    assert m.at_crossing[20:, 0, STRANDED].max() <= m.at_crossing[20:, 0, C.REFUSED].sum()
    assert m.sheltered[19, m.index["S"]] > 0


def test_irregular_crossings_fall_as_detection_rises(tmp_path):
    lax = run(
        tmp_path / "a",
        policies=[("A", "entry", "2025-01-01", "", "documented_only", 0, 0.1)],
        stranded={"irregular_per_day": 0.5},
    )
    strict = run(
        tmp_path / "b",
        policies=[("A", "entry", "2025-01-01", "", "documented_only", 0, 0.9)],
        stranded={"irregular_per_day": 0.5},
    )
    # people caught try again on later nights, so strict detection delays more than it stops
    assert totals(lax, "irregular_crossing") > 1.5 * totals(strict, "irregular_crossing")
    assert strict.at_crossing[:, 0, STRANDED].max() > lax.at_crossing[:, 0, STRANDED].max()


def test_same_seed_same_numbers_and_variants_share_departures(tmp_path):
    kw = dict(policies=[("A", "entry", "2025-01-01", "", "documented_only", 0, 0.5)])
    a = run(tmp_path / "a", seed=5, **kw)
    b = run(tmp_path / "b", seed=5, **kw)
    c = run(tmp_path / "c", seed=6, **kw)
    np.testing.assert_array_equal(a.at_crossing, b.at_crossing)
    assert not np.array_equal(a.at_crossing, c.at_crossing)
    corridor = run(
        tmp_path / "d", seed=5, policies=[("A", "entry", "2025-01-01", "", "corridor", 0, 0.5)]
    )
    np.testing.assert_array_equal(a.departed, corridor.departed)  # common random numbers


def test_departures_follow_hazard_events(tmp_path):
    quiet = run(tmp_path / "a", hazard=0.002)
    rush = run(
        tmp_path / "b",
        hazard=0.002,
        events=[("2025-01-10", "2025-01-15", "hazard", 5.0, "", "", "rush")],
    )
    np.testing.assert_array_equal(quiet.decided[:9], rush.decided[:9])
    assert rush.decided[9:15].sum() > 3 * quiet.decided[9:15].sum()


@pytest.mark.parametrize(
    ("edit", "file", "column", "phrase"),
    [
        (
            ("policies.csv", "A,entry", "Z,entry"),
            "policies.csv",
            "crossing",
            "unknown crossing 'Z'",
        ),
        (
            ("policies.csv", "2025-01-01,2025-01-12", "2025-01-12,2025-01-01"),
            "policies.csv",
            "(row)",
            "before start",
        ),
        (("population.csv", "R,1.0", "R,0.7"), "population.csv", "share", "sum to"),
        (
            ("crossings.csv", "A,XA,YA,DA,0.0,24.0,10000", "A,XA,YA,DA,0.0,24.0,-5"),
            "crossings.csv",
            "capacity_per_day",
            "greater than or equal to 0",
        ),
    ],
)
def test_bad_case_files_name_file_and_field(tmp_path, edit, file, column, phrase):
    root = write_case(
        tmp_path / "case",
        policies=[("A", "entry", "2025-01-01", "2025-01-12", "closed", 0, 1.0)],
    )
    name, old, new = edit
    text = (root / name).read_text()
    assert old in text
    (root / name).write_text(text.replace(old, new))
    with pytest.raises(ScenarioError) as info:
        read_border_case(root)
    e = info.value
    assert e.file.endswith(file)
    assert e.column == column
    assert phrase in e.message
    env = {**os.environ, "COLUMNS": "300"}
    res = subprocess.run(
        [sys.executable, "-m", "borderflow", "run", str(root), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=env,
    )
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert file in res.stderr and phrase in res.stderr
    assert not (tmp_path / "out").exists()


def test_unknown_variant_option_is_refused(tmp_path):
    root = write_case(
        tmp_path / "case",
        variants="""
[variants.policy]
default = "as_is"
[variants.policy.options.as_is]
description = "no change"
[variants.policy.options.open]
description = "open"
policies = [{ crossing = "A", side = "entry", start = 2025-01-05, policy = "open" }]
""",
    )
    case = read_border_case(root, {"policy": "open"})
    assert case.policies[-1].policy == "open"
    with pytest.raises(ScenarioError, match="unknown option 'shut'"):
        read_border_case(root, {"policy": "shut"})
    with pytest.raises(ScenarioError, match="unknown variant 'nope'"):
        read_border_case(root, {"nope": "x"})


def test_one_shot_runs_free_their_model_without_the_cyclic_collector(tmp_path):
    """A model is a reference cycle; calibrations run thousands in one worker and keep only
    results. With the cyclic collector off, nothing of a finished one-shot run may stay alive
    (a Pazarkule model holds ~250 MB of agent arrays: a learn once held 24 GB of dead ones)."""
    import gc
    import weakref

    from borderflow.calibrate.problem import BorderProblem

    case = read_border_case(write_case(tmp_path / "case"))
    kept = BorderModel(case, 1).run().result()  # the same run, its model left alive
    problem = BorderProblem.from_case(case)
    gc.collect()
    gc.disable()
    try:
        problem.simulate({"departure.base_hazard": 0.01}, 2, problem.days - 1)
        assert not [o for o in gc.get_objects() if isinstance(o, BorderModel)]
        with BorderModel(case, 1) as model:
            result = model.run().result()
            ref = weakref.ref(model)
        del model
        assert ref() is None
        assert result.table.equals(kept.table)  # the result outlives its model intact
    finally:
        gc.enable()
