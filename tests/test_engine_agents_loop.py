"""Unit tests of the agent store (engine/agents.py) and the phase loop (engine/loop.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import borderflow.engine.loop as loop_mod
from borderflow.engine.agents import Agents
from borderflow.engine.loop import Phase, Plan

FIELDS = {"x": (np.dtype(np.int16), 7), "w": (np.dtype(np.float64), 0.5)}


def test_add_returns_the_new_slice_and_fills_defaults():
    a = Agents(FIELDS, capacity=4)
    assert a.fields == ("loc", "home", "x", "w")
    assert a.add(2, loc=3) == slice(0, 2)
    assert a.add(3, x=np.array([1, 2, 3]), w=2.0) == slice(2, 5)
    assert a.loc.tolist() == [3, 3, -1, -1, -1]
    assert a.home.tolist() == [-1] * 5
    assert a.x.tolist() == [7, 7, 1, 2, 3]
    assert a.w.tolist() == [0.5, 0.5, 2.0, 2.0, 2.0]
    assert a.x.dtype == np.int16


def test_growth_keeps_every_value():
    a = Agents(FIELDS, capacity=1)
    for batch in range(12):  # 1 + 2 + ... + 12 = 78 agents, several doublings
        a.add(batch + 1, loc=np.arange(batch + 1) + 100 * batch, x=batch)
    assert len(a) == 78
    expect_loc = [100 * b + i for b in range(12) for i in range(b + 1)]
    assert a.loc.tolist() == expect_loc
    assert a.x.tolist() == [b for b in range(12) for _ in range(b + 1)]
    assert (a.w == 0.5).all()


def test_fields_are_contiguous_views_that_kernels_can_write():
    a = Agents(FIELDS)
    a.add(5)
    loc = a.loc
    assert loc.flags.c_contiguous and len(loc) == 5
    loc[2] = 9  # a kernel writes into the view in place
    assert a.loc.tolist() == [-1, -1, 9, -1, -1]


def test_unknown_field_is_refused():
    a = Agents(FIELDS)
    a.add(1)
    with pytest.raises(KeyError, match="unknown agent field 'nope'"):
        a.add(2, nope=1)
    assert len(a) == 1
    with pytest.raises(AttributeError):
        _ = a.nope


def test_keep_drops_in_order_in_every_field():
    a = Agents(FIELDS)
    a.add(6, loc=np.arange(6), x=np.arange(6) * 10)
    a.keep(np.array([True, False, True, True, False, True]))
    assert a.loc.tolist() == [0, 2, 3, 5]
    assert a.x.tolist() == [0, 20, 30, 50]


def test_agents_added_after_keep_take_initial_values():
    """keep() leaves dropped agents' values past the live part; add() must not reuse them."""
    a = Agents(FIELDS)
    a.add(6, loc=np.arange(6), x=np.arange(6) * 10)
    a.keep(np.array([True, False, True, True, False, True]))
    a.add(2, loc=8)  # as Flee's set_counts does: only loc/home given
    assert a.loc.tolist() == [0, 2, 3, 5, 8, 8]
    assert a.x.tolist() == [0, 20, 30, 50, 7, 7]


ops = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(0, 40)),
        st.tuples(st.just("keep"), st.integers(0, 2**32 - 1)),
    ),
    max_size=15,
)


@settings(deadline=None)  # the machine may be busy; no timing is tested
@given(ops, st.integers(1, 8))
def test_store_matches_a_list_model(steps, capacity):
    a = Agents(FIELDS, capacity=capacity)
    model: list[tuple[int, int]] = []  # (loc, x) per agent
    serial = 0
    for op, arg in steps:
        if op == "add":
            locs = np.arange(serial, serial + arg)
            a.add(arg, loc=locs, x=locs % 1000)
            model += [(int(v), int(v) % 1000) for v in locs]
            serial += arg
        else:
            mask = np.random.default_rng(arg).random(len(model)) < 0.5
            a.keep(mask)
            model = [m for m, k in zip(model, mask, strict=True) if k]
    assert len(a) == len(model)
    assert a.loc.tolist() == [m[0] for m in model]
    assert a.x.tolist() == [m[1] for m in model]
    assert (a.w == 0.5).all() and (a.home == -1).all()


def _recorder(log: list, name: str) -> Phase:
    return Phase(name, lambda day: log.append((day, name)), doc=f"{name} step")


def test_plan_runs_phases_in_order_every_day():
    log: list = []
    plan = Plan([_recorder(log, "spawn"), _recorder(log, "move")])
    plan.insert(_recorder(log, "close"), before="move")
    plan.insert(_recorder(log, "count"), after="spawn")
    plan.insert(_recorder(log, "report"))
    assert plan.names() == ["spawn", "count", "close", "move", "report"]
    plan.run(range(3, 5), on_day=lambda day: log.append((day, "on_day")))
    order = ["spawn", "count", "close", "move", "report", "on_day"]
    assert log == [(d, n) for d in (3, 4) for n in order]


def test_plan_insert_next_to_unknown_phase_is_refused():
    plan = Plan([Phase("move", lambda day: None)])
    with pytest.raises(ValueError):
        plan.insert(Phase("x", lambda day: None), before="mvoe")
    assert plan.names() == ["move"]


def test_plan_records_seconds_per_phase(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(loop_mod.time, "perf_counter", lambda: now[0])

    def costs(seconds: float):
        def fn(day: int) -> None:
            now[0] += seconds

        return fn

    plan = Plan([Phase("a", costs(1.0)), Phase("b", costs(2.5))])
    plan.run(range(4))
    assert plan.seconds == {"a": 4.0, "b": 10.0}
    plan.run(range(2))  # a second run adds to the totals
    assert plan.seconds == {"a": 6.0, "b": 15.0}


def test_plan_prints_its_order():
    plan = Plan([Phase("spawn", lambda d: None, "new agents"), Phase("move", lambda d: None)])
    assert str(plan) == "1. spawn: new agents\n2. move"
