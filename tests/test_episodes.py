"""The historical episodes authored for issue 12: complete, consistent and runnable.

Each is a built-in case written from sourced reports (see its README): it must pass
`borderflow check` with no error, hold at least ten dated reports on both sides of its origin,
give every row a source (and every report and event a reliability grade), mark the decisions
made public after the origin, and run, producing every quantity its reports name.
"""

from __future__ import annotations

import pytest

from borderflow.calibrate.grid import simulated
from borderflow.rules.border import BorderModel
from borderflow.scenario.announced import at_origin, known_after_origin
from borderflow.scenario.border_io import read_border_case
from borderflow.scenario.case_lint import lint_case
from borderflow.scenario.locate import BUILTIN_CASES, resolve_scenario

EPISODES = ("pazarkule-2020", "ceuta-2021", "tijuana-2018")
GRADES = set("ABCDE")


def test_episodes_are_built_in():
    assert set(EPISODES) <= set(BUILTIN_CASES)


@pytest.mark.parametrize("name", EPISODES)
def test_check_finds_no_error_and_only_late_rows_to_note(name):
    findings, case = lint_case(resolve_scenario(name))
    assert case is not None, [f"{f.where}: {f.message}" for f in findings]
    others = [f for f in findings if "known after the origin" not in f.message]
    assert not others, [f"{f.level} {f.where}: {f.message}" for f in others]


@pytest.mark.parametrize("name", EPISODES)
def test_reports_sources_and_late_decisions(name):
    case = read_border_case(resolve_scenario(name))
    info = case.spec.case
    dates = [o.date for o in case.observations]
    assert len(dates) >= 10
    assert all(info.start <= d <= info.end for d in dates)
    assert any(d <= info.origin for d in dates) and any(d > info.origin for d in dates)
    for table in ("observations", "events"):
        for row in getattr(case, table):
            assert row.source.strip() and row.reliability in GRADES, (table, row)
    for table in ("places", "routes", "population", "groups", "crossings", "policies"):
        for row in getattr(case, table, ()):
            if hasattr(row, "source"):
                assert row.source.strip(), (table, row)
    late = known_after_origin(case)
    assert late, "every episode has decisions made public after its origin"
    kept = at_origin(case)
    assert len(kept.events) + len(kept.policies) == (
        len(case.events) + len(case.policies) - len(late)
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", EPISODES)
def test_runs_and_produces_every_reported_quantity(name):
    case = read_border_case(resolve_scenario(name))
    result = BorderModel(case, 0).run().result()
    missing = [(o.date, o.location, o.indicator) for o in case.observations
               if simulated(result, o) is None]  # fmt: skip
    assert not missing
    BorderModel(at_origin(case), 0).run()  # what a forecaster on the origin day had
