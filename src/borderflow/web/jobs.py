"""Runs and ensembles requested through the API, executed in the background of the server.

A small thread pool takes queued runs one after another. A single run goes through
:func:`borderflow.runs.run_border`; an ensemble through
:func:`borderflow.ensemble.runner.run_ensemble` on a local process pool. Each run's row says
where it stands: status ``queued`` → ``running`` → ``done`` or ``failed`` with a one-line
message (never a traceback: those go to the server log), and progress from 0 to 1.

The database may be busy: a large upload holds SQLite's write lock for as long as its one
transaction takes, and PostgreSQL may pick this writer as a deadlock's victim. A status change
then waits and tries again (for up to :data:`RETRY_S` seconds) rather than failing the run,
and a progress update, which the next one supersedes, is skipped.

The server may stop at any time. Stopping it cancels what is queued and stops what is running
within a simulated day (a run) or a batch of members (an ensemble); those runs are marked
failed ("interrupted"), and so are any left ``queued``/``running`` by a server that died,
when the next one starts.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import OperationalError

from borderflow.errors import ScenarioError
from borderflow.execute import Executor
from borderflow.web.db import reading, writing
from borderflow.web.models import Run, utcnow

log = logging.getLogger("borderflow.web")

THREADS = 2  # runs executed at the same time; an ensemble uses a process pool of its own
PROGRESS_EVERY = 0.5  # seconds between progress updates of a run's row
INTERRUPTED = "interrupted: the server stopped before the run finished"
RETRY_S = 600.0  # how long a status change keeps trying while the database is busy
PG_TRANSIENT = {"40001", "40P01"}  # serialization failure, deadlock detected


def busy(exc: OperationalError) -> bool:
    """Whether ``exc`` says the database was busy (worth trying again), not broken."""
    text = str(exc.orig).lower()
    code = getattr(exc.orig, "sqlstate", None)
    return "database is locked" in text or "database is busy" in text or code in PG_TRANSIENT


class RunInterruptedError(Exception):
    """The server is stopping: abandon the run."""


class Jobs:
    """The background executor of one server."""

    def __init__(
        self,
        engine: Engine,
        data_dir: Path,
        workers: int | None = None,
        threads: int = THREADS,
        db_url: str | None = None,
    ) -> None:
        self.engine, self.data_dir, self.workers, self.threads = engine, data_dir, workers, threads
        self.db_url = db_url  # the observation store's, from which forecasts take the reports
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()

    # -- lifecycle ---------------------------------------------------------------------------
    def recover(self) -> int:
        """Mark runs that a previous server left unfinished as failed; returns how many."""
        with writing(self.engine) as session:
            result = session.execute(
                update(Run)
                .where(Run.status.in_(("queued", "running")))
                .values(status="failed", message=INTERRUPTED, finished_at=utcnow())
            )
            return result.rowcount or 0

    def start(self) -> None:
        """Start taking runs (again, after a shutdown: an app may serve several lifespans)."""
        with self._lock:
            if self._pool is None:
                self._stop.clear()
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="borderflow-run")

    def shutdown(self) -> None:
        """Cancel queued runs, stop running ones, and mark them all failed."""
        with self._lock:
            pool, self._pool = self._pool, None
            self._stop.set()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        self.recover()

    # -- work --------------------------------------------------------------------------------
    def folder_name(self, run_id: int) -> str:
        """A fresh folder per run: an old data folder reused with a new database never mixes."""
        return f"run-{run_id}-{secrets.token_hex(4)}"

    def submit(self, run_id: int) -> None:
        self.start()
        with self._lock:
            if self._pool is not None:  # else the server stopped meanwhile: the run stays queued
                self._pool.submit(self.execute, run_id)

    def _set(self, run_id: int, *, skip_if_busy: bool = False, **values: object) -> None:
        """Update the run's row; while the database is busy, wait and retry (or skip)."""
        deadline, pause = time.monotonic() + RETRY_S, 0.05
        while True:
            try:
                with writing(self.engine) as session:
                    session.execute(update(Run).where(Run.id == run_id).values(**values))
                return
            except OperationalError as exc:
                if not busy(exc) or time.monotonic() + pause > deadline:
                    raise
                if skip_if_busy:
                    log.info("run %s: database busy, progress update skipped", run_id)
                    return
                log.warning("run %s: database busy, retrying its update in %.2f s", run_id, pause)
            time.sleep(pause)
            pause = min(2 * pause, 2.0)

    def execute(self, run_id: int) -> None:
        """Run one queued run in this thread (the pool calls it for every run it takes)."""
        with reading(self.engine) as session:
            run = session.scalar(select(Run).where(Run.id == run_id))
        if run is None or run.status != "queued":
            return
        if self._stop.is_set():
            return  # marked interrupted by shutdown()
        self._set(run_id, status="running", progress=0.0)
        message = ""
        try:
            message = self._run(run) or ""
        except RunInterruptedError:
            self._set(run_id, status="failed", message=INTERRUPTED, finished_at=utcnow())
        except ScenarioError as exc:
            self._fail(run_id, exc.describe())
        except Exception:
            log.exception("run %s failed", run_id)
            self._fail(run_id, "internal error (the server log has the details)")
        else:
            self._set(
                run_id, status="done", progress=1.0, message=message[:500], finished_at=utcnow()
            )

    def _fail(self, run_id: int, message: str) -> None:
        line = " ".join(message.split())[:500]
        self._set(run_id, status="failed", message=line, finished_at=utcnow())

    def _progress(self, run_id: int):
        """A callback taking the fraction done: checks for a stop, writes at most every 0.5 s."""
        last = [0.0]

        def tick(fraction: float) -> None:
            if self._stop.is_set():
                raise RunInterruptedError
            now = time.monotonic()
            if now - last[0] >= PROGRESS_EVERY:
                last[0] = now
                self._set(run_id, progress=min(max(fraction, 0.0), 1.0), skip_if_busy=True)

        return tick

    def _run(self, run: Run) -> str | None:
        """Execute a job; returns what to say about it when it is done (a forecast's step)."""
        from borderflow.web import catalogue, results

        if run.kind == "forecast":
            return self._forecast(run)
        path = catalogue.path_of(run.scenario)
        folder = self.data_dir / run.folder
        if folder.exists():
            shutil.rmtree(folder)  # a half-written folder of an interrupted attempt
        tick = self._progress(run.id)
        if run.members == 0:
            from borderflow.runs import run_border

            total = [1]
            run_border(
                path,
                seed=run.seed,
                variant=run.variant,
                capacity=run.capacity,
                out_dir=folder,
                plots=False,
                on_start=lambda days: total.__setitem__(0, max(days, 1)),
                on_day=lambda day: tick((day + 1) / total[0]),
                fitted=True,  # as `borderflow run`: the case's fit when it has one
            )
            return
        from borderflow.ensemble.params import default_params_file
        from borderflow.ensemble.runner import run_ensemble
        from borderflow.results.atomic import atomic_outputs
        from borderflow.runs import SUMMARY_JSON

        done = [0, 1]

        def start(total: int, already: int) -> None:
            done[:] = [already, max(total, 1)]

        def member(_: int) -> None:
            done[0] += 1
            tick(done[0] / done[1])

        run_ensemble(
            path,
            default_params_file(path),  # the case's fit when it has one
            folder,
            members=run.members,
            seed=run.seed,
            variant=run.variant,
            capacity=run.capacity,
            executor=self._executor(),
            on_start=start,
            on_member=member,
        )
        case = catalogue.border_case(run.scenario, run.variant)
        summary = results.ensemble_summary(folder, case, run.members)
        with atomic_outputs(folder) as out:
            out.write(SUMMARY_JSON, lambda p: p.write_bytes(results.json_bytes(summary)))

    def _forecast(self, run: Run) -> str:
        """The next step of the scenario's forecast cycle (:mod:`borderflow.web.forecasting`)."""
        from borderflow.web.forecasting import Update, run_update

        job = Update(run.scenario, members=run.members, seed=run.seed)
        return run_update(job, self.data_dir, self.db_url, self._progress(run.id), self._executor())

    def _executor(self) -> Executor:
        """The local process pool, fed a batch of members at a time so that a stop is prompt.

        (A process pool finishes every member already submitted to it before it closes.) The
        workers stay up from one batch to the next.
        """
        from borderflow.execute import choose_executor, in_batches

        def check() -> None:
            if self._stop.is_set():
                raise RunInterruptedError

        batch = 2 * (self.workers or os.cpu_count() or 1)
        return in_batches(choose_executor(self.workers), batch, check)
