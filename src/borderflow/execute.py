"""Where batches of runs execute: in this process, a local process pool or a Dask cluster.

Every batch of runs (ensemble members, ABC particles, posterior-predictive members, Sobol'
samples) is a :class:`Job`: a set-up that builds a *context* once per worker from the job's
input (the compiled case, the calibration problem…), and a task, a pure function of (context,
item), run once per item. The input crosses to each worker once, not once per item: a process
pool passes it to its initializer, Dask scatters it to every worker. Tasks draw their random
numbers from the item alone, so a batch gives the same numbers on every executor.

The contexts built in a worker are the only per-worker state of borderflow; they live here,
keyed by a token per session. A session keeps its workers (and their contexts) between
batches, which calibration needs: it submits a batch per generation.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

from borderflow.errors import ScenarioError

Done = Callable[[Any, Any], None]  # (key, result) of one item, as it arrives
Submit = Callable[[Sequence[Any], Done], None]  # run a batch of items, hand each result on


@dataclass(frozen=True)
class Job:
    """Work an executor spreads: ``setup(*init)`` once per worker, then ``task(context, item)``.

    ``setup`` returns the context (often just the input, named); ``task`` returns (key, result),
    the key telling the caller which item the result belongs to. Both must be module-level
    functions (or classes), so that workers import them instead of unpickling code.
    """

    setup: Callable[..., Any]
    task: Callable[[Any, Any], tuple[Any, Any]]


# -- the per-worker cache: contexts by session token ---------------------------------------
_CONTEXTS: dict[str, Any] = {}
_KEEP = 4  # contexts a long-lived (Dask) worker keeps; a session that lost its own rebuilds it
_LOCK = threading.Lock()


def _set_up(job: Job, token: str, init: tuple) -> Any:
    """The context of ``token`` in this worker, built on first use."""
    with _LOCK:  # a Dask worker with several threads builds it once
        if token not in _CONTEXTS:
            while len(_CONTEXTS) >= _KEEP:
                _CONTEXTS.pop(next(iter(_CONTEXTS)))
            _CONTEXTS[token] = job.setup(*init)
        return _CONTEXTS[token]


def _pool_task(job: Job, token: str, item: Any) -> tuple[Any, Any]:
    """A process-pool task: the initializer built the context."""
    return job.task(_CONTEXTS[token], item)


def _dask_task(job: Job, token: str, init: tuple, item: Any) -> tuple[Any, Any]:
    """A Dask task: set this worker up on first use (the scattered input is already there)."""
    return job.task(_set_up(job, token, init), item)


def _forget(token: str) -> None:
    _CONTEXTS.pop(token, None)


# -- executors: run items, hand each result to ``done`` as it arrives ---------------------
class Executor:
    """Where the items of a job run."""

    def session(self, job: Job, init: tuple) -> AbstractContextManager[Submit]:
        """Workers set up for ``job`` with input ``init``, kept until the context ends."""
        raise NotImplementedError

    def run(self, job: Job, init: tuple, todo: Sequence[Any], done: Done) -> None:
        """One batch in a session of its own."""
        with self.session(job, init) as submit:
            submit(todo, done)


class _Serial(Executor):
    @contextmanager
    def session(self, job: Job, init: tuple) -> Iterator[Submit]:
        context = job.setup(*init)

        def submit(todo: Sequence[Any], done: Done) -> None:
            for item in todo:
                done(*job.task(context, item))

        yield submit


def _context() -> multiprocessing.context.BaseContext | None:
    """How to start workers: forked, unless this process runs other threads (the web server).

    A fork copies every lock as it stands; a lock another thread holds at that moment (an
    import in progress, a logging handler) is never released in the worker, which then waits
    for ever. Workers of a threaded process start from a fork server instead.
    """
    if threading.active_count() > 1:
        return multiprocessing.get_context("forkserver")
    return None


class _Pool(Executor):
    def __init__(self, workers: int | None) -> None:
        self.workers = workers or os.cpu_count() or 1

    @contextmanager
    def session(self, job: Job, init: tuple) -> Iterator[Submit]:
        token = uuid.uuid4().hex
        with cf.ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=_context(),
            initializer=_set_up,
            initargs=(job, token, init),
        ) as pool:

            def submit(todo: Sequence[Any], done: Done) -> None:
                futures = [pool.submit(_pool_task, job, token, item) for item in todo]
                for fut in cf.as_completed(futures):
                    done(*fut.result())

            yield submit


class _Dask(Executor):
    def __init__(self, scheduler: str | None, local_workers: int | None) -> None:
        self.scheduler, self.local_workers = scheduler, local_workers

    def _local_cluster(self):
        import dask
        from distributed import LocalCluster

        # Dask's default MALLOC_TRIM_THRESHOLD_ (64 KiB) makes glibc hand memory back after
        # every large free; the model's daily NumPy temporaries then page-fault and run 3x
        # slower (measured). A cluster of your own: set it in its config the same way.
        environ = {"OMP_NUM_THREADS": 1, "MKL_NUM_THREADS": 1, "OPENBLAS_NUM_THREADS": 1}
        with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
            return LocalCluster(
                n_workers=self.local_workers or os.cpu_count() or 1,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )

    @contextmanager
    def session(self, job: Job, init: tuple) -> Iterator[Submit]:
        from distributed import Client, as_completed

        cluster = self._local_cluster() if self.scheduler is None else None
        try:
            with Client(cluster or self.scheduler, timeout="10s") as client:
                shared = client.scatter(init, broadcast=True)  # once per worker
                token = uuid.uuid4().hex

                def submit(todo: Sequence[Any], done: Done) -> None:
                    futures = [
                        client.submit(_dask_task, job, token, shared, item, pure=False)
                        for item in todo
                    ]
                    for fut in as_completed(futures):
                        done(*fut.result())

                yield submit
                client.run(_forget, token)  # a cluster of your own outlives the session
        except OSError as exc:  # the scheduler cannot be reached, or was lost
            raise ScenarioError(f"cannot reach the Dask scheduler ({exc})") from None
        finally:
            if cluster is not None:
                cluster.close()


class _Batched(Executor):
    """Another executor, fed ``size`` items at a time, calling ``between()`` before each."""

    def __init__(self, inner: Executor, size: int, between: Callable[[], None]) -> None:
        self.inner, self.size, self.between = inner, size, between

    @contextmanager
    def session(self, job: Job, init: tuple) -> Iterator[Submit]:
        with self.inner.session(job, init) as inner_submit:

            def submit(todo: Sequence[Any], done: Done) -> None:
                for start in range(0, len(todo), self.size):
                    self.between()
                    inner_submit(todo[start : start + self.size], done)

            yield submit


def serial_executor() -> Executor:
    """In this process: for tests and debugging."""
    return _Serial()


def pool_executor(workers: int | None = None) -> Executor:
    """A local process pool (default: all cores)."""
    return _Pool(workers)


def dask_executor(scheduler: str | None = None, local_workers: int | None = None) -> Executor:
    """A Dask cluster: an existing one at ``scheduler`` (tcp://host:port), or a local one."""
    return _Dask(scheduler, local_workers)


def in_batches(executor: Executor, size: int, between: Callable[[], None]) -> Executor:
    """``executor`` given ``size`` items at a time, ``between()`` called before each batch.

    ``between`` may raise to abandon the rest (a server stopping): a pool finishes every item
    already submitted to it before it closes, so small batches make a stop prompt.
    """
    return _Batched(executor, max(size, 1), between)


def choose_executor(
    workers: int | None = None, scheduler: str | None = None, dask_local: int | None = None
) -> Executor:
    """The executor the command-line options ask for (the CLI's and the web server's).

    Dask if a scheduler or a local Dask cluster is named, else a process pool of ``workers``
    (default: all cores).
    """
    if scheduler or dask_local:
        return dask_executor(scheduler, dask_local)
    return pool_executor(workers)
