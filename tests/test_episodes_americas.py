"""The built-in episodes necocli-2021, peru-visa-2019 and colchane-2021 as authored cases.

They are validation material: their counts after the origin are what a forecast is scored
against, so nothing here asks a run to reproduce them. What is checked is that each case loads,
runs end to end with and without the decisions announced after its origin, and keeps the
authoring rules of issue 12 (dated counts on both sides of the origin, every value sourced).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from borderflow.rules.border import BorderModel
from borderflow.scenario.announced import at_origin, known_after_origin
from borderflow.scenario.border_io import read_border_case
from borderflow.scenario.locate import BUILTIN_CASES, resolve_scenario

pytestmark = pytest.mark.slow  # every test runs a whole episode

EPISODES = ("necocli-2021", "peru-visa-2019", "colchane-2021")
GRADES = {"A", "B", "C", "D"}


@pytest.fixture(scope="module", params=EPISODES)
def case(request):
    return read_border_case(resolve_scenario(request.param))


def test_registered_as_built_in(case):
    assert case.spec.case.name in BUILTIN_CASES


def test_counts_on_both_sides_of_the_origin_each_with_a_grade(case):
    origin = case.spec.case.origin
    obs = case.observations
    assert len(obs) >= 10
    assert any((o.end or o.date) <= origin for o in obs)
    assert any(o.date > origin for o in obs)
    for o in obs:
        assert o.reliability in GRADES and o.source


def test_later_decisions_are_marked_and_dropped_at_the_origin(case):
    late = known_after_origin(case)
    assert late, "an episode's decisions after the origin carry an announced date"
    origin = case.spec.case.origin
    assert all(dt.date.fromisoformat(r.announced) > origin for r in late)
    known = at_origin(case)
    assert len(known.events) + len(known.policies) == (
        len(case.events) + len(case.policies) - len(late)
    )


def test_every_row_says_where_its_numbers_come_from(case):
    for table in ("routes", "groups", "crossings", "policies", "events", "population"):
        for row in getattr(case, table):
            assert row.source.strip(), f"{table}: a row without source"


@pytest.mark.parametrize("drop_late", [False, True])
def test_runs_to_the_end_and_keeps_everyone(case, drop_late):
    run_case = at_origin(case) if drop_late else case
    m = BorderModel(run_case, 0).run()
    days = (case.spec.case.end - case.spec.case.start).days + 1
    assert m.at_crossing.shape[0] == days
    people = m.result().series.values("people", case.crossings[0].name)
    assert people is not None and np.all(np.asarray(people) >= 0)
    assert np.asarray(people).max() > 0  # each episode is about a crowd somewhere


def test_every_variant_option_loads(case):
    for dim, d in case.spec.variants.items():
        for option in d.options:
            picked = read_border_case(case.path, {dim: option})
            assert picked.variant[dim] == option
