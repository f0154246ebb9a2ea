"""The executors: a job's set-up runs once per worker, its tasks see that context, results
reach the caller by key, and a session keeps its workers between batches."""

from __future__ import annotations

import os

import pytest

from borderflow.execute import (
    Job,
    choose_executor,
    dask_executor,
    in_batches,
    pool_executor,
    serial_executor,
)


class Counted:
    """A context that remembers which process built it, and which object it is."""

    def __init__(self, base: int, scale: int) -> None:
        self.base, self.scale = base, scale
        self.serial = (os.getpid(), id(self))


def _task(ctx: Counted, item: int) -> tuple[int, tuple[int, tuple[int, int]]]:
    return item, (ctx.base + ctx.scale * item, ctx.serial)


JOB = Job(Counted, _task)


@pytest.mark.parametrize(
    "make", [serial_executor, lambda: pool_executor(2), lambda: dask_executor(local_workers=2)]
)
def test_one_context_per_worker_and_every_result_by_key(make):
    results: dict[int, int] = {}
    contexts: set[tuple[int, int]] = set()

    def done(item: int, out: tuple[int, tuple[int, int]]) -> None:
        results[item] = out[0]
        contexts.add(out[1])

    with make().session(JOB, (10, 3)) as submit:
        submit(range(12), done)
        submit(range(12, 20), done)  # a second batch: the same workers, the same contexts
    assert results == {i: 10 + 3 * i for i in range(20)}
    pids = [pid for pid, _ in contexts]
    assert len(contexts) <= 2 and len(set(pids)) == len(pids)  # one context per worker


def test_in_batches_checks_between_batches():
    class StopError(Exception):
        pass

    seen: list[int] = []
    calls = [0]

    def between() -> None:
        calls[0] += 1
        if calls[0] == 3:
            raise StopError  # what a stopping server does

    with pytest.raises(StopError):
        executor = in_batches(serial_executor(), 2, between)
        executor.run(JOB, (0, 1), list(range(10)), lambda item, _out: seen.append(item))
    assert seen == [0, 1, 2, 3]  # two whole batches, and the third never started


def test_choose_executor_follows_the_options():
    assert type(choose_executor()) is type(pool_executor())
    assert choose_executor(3).workers == 3
    assert type(choose_executor(2, dask_local=2)) is type(dask_executor())
    assert choose_executor(scheduler="tcp://h:1").scheduler == "tcp://h:1"
