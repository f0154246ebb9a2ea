"""The filter's particles on the executors (:mod:`borderflow.execute`).

A particle is a whole model state, and every random number it draws comes from its own
generator, so a particle run in another process, sent there and back by pickle, is the same
particle as one run here: any executor gives the same particles. Sending a state costs about
as much as simulating a day of it (a Chile–Peru 2025 state pickles to ~9 MB), so particles are
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
WINDOW = 4  # blocks given to the executor at once: their old states are held until all are back


def discard(models: Sequence[Any], keep: Sequence[Any] = ()) -> None:
    """Free the states of ``models`` not in ``keep`` now (:meth:`BorderModel.close`)."""
    kept = {id(m) for m in keep}
    for model in models:
        if id(model) not in kept and hasattr(model, "close"):
            model.close()


def _context(*init: Any) -> tuple:
    return init


def _advance(_ctx: tuple, item: tuple) -> tuple[int, list[Any]]:
    start, models, first, last = item
    for model in models:
        model.plan.run(range(first, last + 1))
    return start, models


def _in_windows(
    executor: Executor, job: Job, init: tuple, items: list, done: Callable, window: int
) -> None:
    """Run ``items`` in one session, ``window`` at a time.

    An executor takes every item it is given at once (a Dask client serialises them all); fed
    a window at a time, only the states of one window are in flight.
    """
    with executor.session(job, init) as submit:
        for start in range(0, len(items), window):
            submit(items[start : start + window], done)


def advance_models(
    models: list[Any],
    first: int,
    last: int,
    executor: Executor | None,
    on_model: Callable[[], None] | None = None,
) -> list[Any]:
    """The models run through days ``first``..``last`` (in blocks on ``executor``).

    ``models`` is updated in place, and returned: each block that comes back from a worker
    replaces its old states at once, and nothing else holds them, so about one set of states
    is held here, not the old and the new ones side by side.
    """
    if executor is None or last - first + 1 < MIN_DAYS:
        executor = serial_executor()
    items: list[tuple | None] = [
        (s, models[s : s + BLOCK], first, last) for s in range(0, len(models), BLOCK)
    ]

    def done(start: int, block: list[Any]) -> None:
        old = models[start : start + len(block)]
        models[start : start + len(block)] = block
        items[start // BLOCK] = None  # the old states of this block can go
        discard(old, keep=block)  # (in this process, the block ran in place)
        if on_model is not None:
            for _ in block:
                on_model()

    _in_windows(executor, Job(_context, _advance), (), items, done, WINDOW)
    return models


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
    discard([model])
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
    _in_windows(executor, Job(_context, _member), (rules,), list(members), done, 4 * WINDOW)
