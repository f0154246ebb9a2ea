"""The filter's particles on the executors (:mod:`borderflow.execute`).

A particle is a whole model state, and every random number it draws comes from its own
generator, so a particle run in another process, sent there and back by pickle, is the same
particle as one run here: any executor gives the same particles. Sending a state costs about
as much as simulating a day of it (a Chile–Peru state pickles to ~20 MB), so particles are
sent to workers only for runs of several days (:data:`MIN_DAYS`): the first run from day 0,
the members' run from the origin, the reruns of a resample-move step. The daily step of the
cycle runs here.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Callable, Sequence
from typing import Any

from borderflow.execute import Executor, Job, serial_executor

BLOCK = 4  # particles per task: few enough that two workers share the load evenly
MIN_DAYS = 5  # shorter runs are done in this process (sending a state costs about a day's run)


def _context(*init: Any) -> tuple:
    return init


def _advance(_ctx: tuple, item: tuple) -> tuple[int, list[Any]]:
    start, models, first, last = item
    for model in models:
        model.plan.run(range(first, last + 1))
    return start, models


def advance_models(
    models: list[Any],
    first: int,
    last: int,
    executor: Executor | None,
    on_model: Callable[[], None] | None = None,
) -> list[Any]:
    """The models run through days ``first``..``last`` (in blocks on ``executor``)."""
    if executor is None or last - first + 1 < MIN_DAYS:
        executor = serial_executor()
    out: list[Any | None] = [None] * len(models)
    items = [(s, models[s : s + BLOCK], first, last) for s in range(0, len(models), BLOCK)]

    def done(start: int, block: list[Any]) -> None:
        out[start : start + len(block)] = block
        if on_model is not None:
            for _ in block:
                on_model()

    executor.run(Job(_context, _advance), (), items, done)
    return out  # type: ignore[return-value]


def _member(ctx: tuple, item: tuple) -> tuple[int, bytes]:
    """Member ``i``: a copy of its particle, retuned, run from the origin to ``end``."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    (rules,) = ctx
    i, model, vals, seed, first, end = item
    model = copy.deepcopy(model)  # copies of one particle share its state here
    rules.retune(model, vals, seed)
    model.plan.run(range(first, end + 1))
    table = model.result().table
    if end < model.days - 1:
        table = table.filter(pc.less_equal(table.column("day"), end))
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    return i, buffer.getvalue()


def run_members(
    rules: Any,
    members: Sequence[tuple[int, Any, dict[str, float], int, int, int]],
    executor: Executor | None,
    done: Callable[[int, bytes], None],
) -> None:
    """Run members (index, particle model, values, seed, first and last day).

    ``done(i, parquet bytes)`` is called as each finishes.
    """
    days = max((m[5] - m[4] + 1 for m in members), default=0)
    if executor is None or days < MIN_DAYS:
        executor = serial_executor()
    executor.run(Job(_context, _member), (rules,), list(members), done)
