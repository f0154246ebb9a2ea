"""The ``borderflow`` command: a thin shell over the services (runs, ensemble, calibrate, ...).

Each topic's commands live in their own module (:mod:`.run`, :mod:`.info`, :mod:`.compare`,
:mod:`.ensemble`, :mod:`.calibrate`, :mod:`.forecast`, :mod:`.observations`, :mod:`.export`,
:mod:`.report`, :mod:`.authoring`; the web app's in
:mod:`borderflow.web.commands`) and are registered here, in the order ``--help`` lists them.
Those modules import only typer at the top; heavy modules (numba, pyarrow, matplotlib, the
database, Dask) load inside the commands that need them, so ``--help`` answers at once. Any
:class:`~borderflow.errors.ScenarioError` becomes one line on stderr and exit status 2.
"""

from __future__ import annotations

import gc
import os
import sys

# borderflow uses no BLAS; without this, NumPy's OpenBLAS starts a thread per core at import.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import typer

from borderflow.cli import (
    authoring,
    calibrate,
    compare,
    ensemble,
    export,
    forecast,
    info,
    observations,
    report,
    run,
)
from borderflow.console import err
from borderflow.web.commands import serve, users_app

app = typer.Typer(
    add_completion=False,
    no_args_is_help=False,
    help="Forecast and monitor migrant flows through border crises.",
    pretty_exceptions_enable=False,
)
for command in (
    run.run,
    info.validate,
    compare.compare,
    ensemble.ensemble,
    ensemble.sensitivity,
    calibrate.calibrate,
    calibrate.backtest,
    forecast.forecast,
    info.info,
    calibrate.fit,
    report.report,
):
    app.command()(command)
app.command("new-case")(authoring.new_case)
app.command()(authoring.check)
app.command()(authoring.score)
app.add_typer(observations.obs_app, name="obs")
app.add_typer(export.export_app, name="export")
app.command("serve")(serve)
app.add_typer(users_app, name="users")


def main() -> None:
    """Console-script entry point.

    Ends with ``os._exit`` once the streams are flushed: every output file is closed and in
    place by then, and the interpreter's teardown (numba, pyarrow's thread pools) would add
    about 0.2 s to every command for nothing.
    """
    # A command is a short batch job whose bulk data are NumPy arrays (no reference cycles):
    # the cyclic collector only re-scans the tens of thousands of objects that imports create,
    # which costs ~0.1 s per command (measured; peak memory grows by ~1 MB).
    gc.disable()
    try:
        app()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        err.print("interrupted")
        code = 130
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):
        pass
    os._exit(code)
