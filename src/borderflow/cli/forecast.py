"""``borderflow forecast``: an ensemble forecast conditioned on every report known at its origin."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Annotated

import typer

from borderflow.cli.common import (
    DEFAULT_SCENARIO,
    CapacityOption,
    DaskLocalOption,
    KnownAtOriginOption,
    LazyProgress,
    SchedulerOption,
    VariantOption,
    WorkersOption,
    capacities,
    pairs,
)
from borderflow.console import fail, out
from borderflow.errors import ScenarioError

MoveOption = Annotated[
    str | None,
    typer.Option(
        help="Rejuvenation of the parameters after a resampling: mcmc (a Metropolis–Hastings "
        "step rerunning each particle from day 0; the default, and the only one for Flee "
        "scenarios) or jitter (Liu–West shrinkage: cheaper, narrower intervals)."
    ),
]


def _date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ScenarioError(f"--origin '{text}' is not a date (YYYY-MM-DD)") from None


def forecast(
    scenario: Annotated[
        str, typer.Argument(help="A border case or a Flee scenario (name or folder).")
    ] = (DEFAULT_SCENARIO),
    origin: Annotated[
        str | None, typer.Option(help="Forecast origin, YYYY-MM-DD (default: the case's).")
    ] = None,
    members: Annotated[int, typer.Option(min=2, help="Particles, and members forecast.")] = 200,
    seed: Annotated[int, typer.Option(min=0, help="Root seed of the filter.")] = 0,
    params: Annotated[
        Path | None,
        typer.Option(
            help="Parameters: a posterior.csv or priors (default: the case's posterior.csv "
            "if it has one, else its uncertain.toml)."
        ),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db", help="Take the reports from this observation store (default: the case's)."
        ),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Forecast store (default: results/forecast-<case>-seed<seed>)."),
    ] = None,
    horizon: Annotated[
        int | None, typer.Option(min=1, help="Days to forecast (default: to the case's end).")
    ] = None,
    refit: Annotated[
        bool, typer.Option("--refit", help="Start from day 0, not from the last forecast.")
    ] = False,
    move: MoveOption = None,
    variant: VariantOption = None,
    capacity: CapacityOption = None,
    known_at_origin: KnownAtOriginOption = False,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    dask_local: DaskLocalOption = None,
) -> None:
    """Forecast from the origin, the members' state weighed by every report known by then.

    A particle filter steps through the days reports became known, weighs each member by them
    (ranges with an error by reliability grade), resamples and moves the parameters, then runs
    the members on. Writes members/, bands.parquet, fan.png, draws.csv and assimilated.csv in
    OUT/origin-DATE/. A later origin goes on from the last stored forecast and weighs only the
    reports it had not used. A Flee scenario's reports are its camp series (no fan.png).
    """
    from borderflow.execute import choose_executor
    from borderflow.forecast.cycle import ForecastSpec
    from borderflow.forecast.cycle import forecast as run_forecast
    from borderflow.scenario.locate import resolve_scenario

    progress = LazyProgress(f"forecast {scenario}", delay=1.0, unit="members")
    try:
        path = resolve_scenario(scenario)
        if move not in (None, "jitter", "mcmc"):
            raise ScenarioError(f"--move {move!r}: choose jitter or mcmc")
        target = out_dir or Path("results") / f"forecast-{path.resolve().name}-seed{seed}"
        spec = ForecastSpec(
            path, target, members, seed, params, db,
            pairs(variant, "--variant"), capacities(capacity), horizon, known_at_origin, move,
            choose_executor(workers, scheduler, dask_local),
        )  # fmt: skip
        progress.start(members)
        result = run_forecast(
            spec, _date(origin), refit=refit, on_member=lambda i: progress.advance(i)
        )
    except ScenarioError as exc:
        progress.stop()
        fail(exc)
        return
    progress.stop()
    _report(result)


def _report(result) -> None:
    """What the forecast weighed, step by step, and where it is."""
    if result.already:
        out.print(f"already stored: {result.folder} ({result.used} reports)", highlight=False)
        return
    start = f"from {result.parent.name}" if result.parent else "from day 0"
    out.print(
        f"forecast from {result.origin} ({start}): weighed {result.new} new reports "
        f"({result.used} in all) in {result.update_seconds:.1f} s",
        highlight=False,
    )
    for s in result.steps:
        what = ", ".join(f"{o.indicator} {o.stat} {o.low:g}–{o.high:g}" for o in s.observations)
        out.print(
            f"  step {s.generation}: {what}; ESS {s.ess:.1f}"
            + (" (resampled)" if s.resampled else ""),
            highlight=False,
        )
    error = result.model_error
    if error.get("reports"):
        q = error["variance_per_day"]
        out.print(
            f"  model error (its forecasts of {error['reports']} reports): "
            + (f"±{math.sqrt(q):.0%} × √days after {error['last_report_day']}, in the bands"
               if q > 0 else "none beyond the members' spread"),
            highlight=False,
        )  # fmt: skip
    out.print(f"wrote {result.folder}", highlight=False)
