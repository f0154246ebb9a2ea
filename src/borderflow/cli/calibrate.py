"""``borderflow calibrate``, ``backtest`` and ``fit``: parameters fitted to observations."""

from __future__ import annotations

import datetime
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from borderflow.cli.common import (
    DEFAULT_SCENARIO,
    AbcMethod,
    Compat,
    CompatOption,
    DaskLocalOption,
    DbOption,
    LangOption,
    LazyProgress,
    MethodOption,
    ObsOption,
    ParamsOption,
    SchedulerOption,
    WorkersOption,
    obs_filters,
    pairs,
)
from borderflow.console import err, fail, out
from borderflow.errors import ScenarioError
from borderflow.i18n import check_language

if TYPE_CHECKING:
    from borderflow.calibrate.backtest import OriginResult
    from borderflow.calibrate.predictive import FitRow
    from borderflow.calibrate.problem import Problem
    from borderflow.calibrate.workflow import Calibration


def _problem(scenario: str, obs: str | None, db: str | None, compat: Compat | None) -> Problem:
    """The calibration problem of a scenario, with stored observations if asked."""
    from borderflow.calibrate.problem import load_problem
    from borderflow.scenario.locate import resolve_scenario

    path = resolve_scenario(scenario)
    problem = load_problem(path, compatibility=compat.value if compat else None)
    if obs is None:
        return problem
    from borderflow.observe.fitting import stored_observations

    query = pairs([q for q in obs.split(",") if q], "--obs")
    unknown = set(query) - {"place", "indicator", "since", "until"}
    if unknown:
        raise ScenarioError(f"--obs: unknown filter '{sorted(unknown)[0]}'")
    filters = obs_filters(
        query.get("place"), query.get("indicator"), query.get("since"), query.get("until")
    )
    rows = stored_observations(db, **filters)
    if not rows:
        raise ScenarioError(f"--obs '{obs}': no stored observations match (see --db)")
    return problem.with_observations(rows)


def _priors(problem: Problem, params: Path | None) -> dict:
    """The priors to fit: ``--params``, or the case's own completed by the shared prior."""
    from borderflow.calibrate.problem import BorderProblem
    from borderflow.ensemble.params import read_uncertain, with_shared_prior

    priors = read_uncertain(params or problem.priors_path(), problem)
    if params is None and isinstance(problem, BorderProblem):
        priors = with_shared_prior(priors, problem)
    return priors


def calibrate(
    scenario: Annotated[
        str, typer.Argument(help="A border case or a Flee scenario (name or folder).")
    ] = DEFAULT_SCENARIO,
    obs: ObsOption = None,
    db: DbOption = None,
    params: ParamsOption = None,
    particles: Annotated[int, typer.Option(min=10, help="Particles per generation.")] = 100,
    generations: Annotated[int, typer.Option(min=1, help="ABC-SMC generations.")] = 4,
    method: MethodOption = AbcMethod.beaumont,
    seed: Annotated[int, typer.Option(min=0, help="Root seed.")] = 0,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Folder (default: results/calibrate-<case>-seed<seed>)."),
    ] = None,
    compat: CompatOption = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    dask_local: DaskLocalOption = None,
    predictive: Annotated[
        int,
        typer.Option(
            min=0,
            help="Members of the posterior-predictive ensemble to run after fitting (0: none).",
        ),
    ] = 50,
    lang: LangOption = "en",
) -> None:
    """Fit the uncertain parameters to observations by ABC-SMC; write the posterior.

    Then runs a posterior-predictive ensemble (members drawn from the posterior's particles)
    into predictive/: for a border case the full ensemble outputs (bands.parquet, fan.png),
    for a Flee scenario the camp bands (bands.csv) and their fan chart (fan.png).
    """
    from borderflow.calibrate.workflow import calibrate as run_calibration
    from borderflow.execute import choose_executor

    try:
        check_language(lang)
        problem = _problem(scenario, obs, db, compat)
        priors = _priors(problem, params)
        target = out_dir or Path("results") / f"calibrate-{problem.path.resolve().name}-seed{seed}"

        def report(g: int, eps: float, n: int) -> None:
            err.print(f"generation {g}: tolerance {eps:.4f}, {n} simulations so far")

        result = run_calibration(
            problem, priors, target, particles=particles, generations=generations, seed=seed,
            method=method.value, predictive=predictive,
            executor=choose_executor(workers, scheduler, dask_local),
            on_generation=report, lang=lang,
        )  # fmt: skip
    except ScenarioError as exc:
        fail(exc)
    _print_calibration(result, particles, predictive)


def _print_calibration(result: Calibration, particles: int, predictive: int) -> None:
    from rich.table import Table

    problem, post, fit = result.problem, result.posterior, result.fit
    q = post.quantiles([0.05, 0.5, 0.95])
    table = Table(
        title=f"{problem.name}: posterior ({particles} particles, {post.simulations} runs, "
        f"distance {post.tolerances[-1]:.4g})"
        if not post.acceptance
        else f"{problem.name}: posterior ({post.describe()}, distance {post.tolerances[-1]:.4g})"
    )
    for col in ("parameter", "5 %", "median", "95 %"):
        table.add_column(col, justify="left" if col == "parameter" else "right")
    for j, name in enumerate(post.names):
        table.add_row(name, *(f"{q[i, j]:.4g}" for i in range(3)))
    out.print(table)
    for c in problem.openings:
        day = problem.start + datetime.timedelta(days=c.end)
        out.print(f"{c.name1} was observed empty: held closed until {day} (day {c.end}), when "
                  "its counts say it opened (closures-opened.csv)")  # fmt: skip
    if fit and len(fit) <= 40:
        _print_fit(fit, problem.name, predictive)
    elif fit:
        inside = sum(r.inside for r in fit)
        out.print(f"fit: the median of {predictive} members lies inside {inside} of {len(fit)} "
                  "reported ranges (each in fit.csv)")  # fmt: skip
    for w in result.warnings:
        err.print(f"[yellow]warning:[/] {w}", highlight=False, soft_wrap=True)
    out.print(f"wrote {', '.join(str(p) for p in result.files)}", highlight=False)


def _print_fit(fit: list[FitRow], name: str, members: int) -> None:
    from rich.table import Table

    table = Table(title=f"{name}: the posterior-predictive ensemble ({members} members) "
                  "against each observation")  # fmt: skip
    for col in ("date", "place", "indicator", "stat", "reported", "5 %", "median", "95 %", ""):
        table.add_column(col, justify="right" if col in ("5 %", "median", "95 %") else "left")
    for r in fit:
        o = r.obs
        when = f"{o.date}–{o.end}" if o.end else str(o.date)
        reported = f"{o.low:,.0f}" if o.low == o.high else f"{o.low:,.0f}–{o.high:,.0f}"
        verdict = "inside" if r.inside else "outside"
        table.add_row(when, o.location, o.indicator, o.stat, reported, f"{r.q05:,.0f}",
                      f"{r.q50:,.0f}", f"{r.q95:,.0f}", verdict)  # fmt: skip
    out.print(table)


def backtest(
    scenario: Annotated[
        str, typer.Argument(help="A border case or a Flee scenario (name or folder).")
    ] = DEFAULT_SCENARIO,
    origin: Annotated[
        list[str] | None,
        typer.Option(help="A forecast origin (YYYY-MM-DD); repeat for several."),
    ] = None,
    origins: Annotated[
        int, typer.Option(min=1, help="Without --origin: this many, spread over the data.")
    ] = 4,
    horizon: Annotated[int, typer.Option(min=1, help="Days forecast after each origin.")] = 14,
    obs: ObsOption = None,
    db: DbOption = None,
    params: ParamsOption = None,
    particles: Annotated[int, typer.Option(min=10, help="Particles per generation.")] = 40,
    generations: Annotated[int, typer.Option(min=1, help="ABC-SMC generations.")] = 3,
    members: Annotated[int, typer.Option(min=2, help="Forecast members per origin.")] = 30,
    method: MethodOption = AbcMethod.beaumont,
    seed: Annotated[int, typer.Option(min=0, help="Root seed.")] = 0,
    free: Annotated[
        bool,
        typer.Option(
            "--free", help="Do not start forecasts from the state observed at the origin."
        ),
    ] = False,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Folder (default: results/backtest-<case>-seed<seed>)."),
    ] = None,
    compat: CompatOption = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    dask_local: DaskLocalOption = None,
    lang: LangOption = "en",
) -> None:
    """Rolling-origin backtest: fit up to each origin, forecast the horizon, score it.

    Scores: averaged relative difference (Flee's), MAE, MASE against persistence and a naive
    trend, CRPS of the ensemble, and coverage of its 50 % and 90 % intervals. Writes
    scores.csv, points.csv, posteriors.csv and backtest.png.
    """
    from borderflow.calibrate.backtest import BacktestSettings, default_origins, write_backtest
    from borderflow.calibrate.backtest import backtest as run_backtest
    from borderflow.execute import choose_executor

    try:
        check_language(lang)
        problem = _problem(scenario, obs, db, compat)
        priors = _priors(problem, params)
        settings = BacktestSettings(horizon=horizon, particles=particles, generations=generations,
                                    members=members, seed=seed, assimilate=not free,
                                    method=method.value)  # fmt: skip
        chosen = _dates(origin) if origin else default_origins(problem, horizon, origins)
        target = out_dir or Path("results") / f"backtest-{problem.path.resolve().name}-seed{seed}"
        t0 = time.perf_counter()

        def say(msg: str) -> None:
            err.print(f"[{time.perf_counter() - t0:6.1f} s] {msg}", highlight=False)

        results = run_backtest(problem, priors, chosen, settings,
                               executor=choose_executor(workers, scheduler, dask_local),
                               report=say)  # fmt: skip
        files = write_backtest(results, problem, target, lang)
    except ScenarioError as exc:
        fail(exc)
    _print_backtest(results, f"{problem.name}: backtest, horizon {horizon} days")
    out.print(f"wrote {', '.join(str(p) for p in files)}", highlight=False)


def _dates(origins: list[str]) -> list[datetime.date]:
    try:
        return sorted({datetime.date.fromisoformat(o) for o in origins})
    except ValueError as exc:
        raise ScenarioError(f"--origin: not a date (YYYY-MM-DD): {exc}") from None


def _print_backtest(results: list[OriginResult], title: str) -> None:
    from rich.table import Table

    from borderflow.calibrate.backtest import score_table

    table = Table(title=title)
    heads = {"origin": "origin", "points": "points", "ard": "ARD", "mae": "MAE",
             "mase_persistence": "MASE persist.", "mase_trend": "MASE trend", "crps": "CRPS",
             "cover50": "50 % cover", "cover90": "90 % cover"}  # fmt: skip
    for col in heads.values():
        table.add_column(col, justify="left" if col == "origin" else "right")
    for row in score_table(results):
        cells = []
        for key in heads:
            v = row[key]
            if key == "origin":
                cells.append(str(v))
            elif key == "points":
                cells.append(str(int(v)))
            elif key.startswith("cover"):
                cells.append("–" if math.isnan(v) else f"{v:.0%}")
            elif math.isnan(v):
                cells.append("–")
            else:
                cells.append(f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}")
        table.add_row(*cells)
    out.print(table)


def fit(
    scenario: Annotated[str, typer.Argument(help="A border case (name or folder).")] = (
        DEFAULT_SCENARIO
    ),
    grid: Annotated[
        Path | None, typer.Option(help="Grid file (default: the case's fit.toml).")
    ] = None,
    top: Annotated[int, typer.Option(min=1, help="Rows of the ranked table to show.")] = 10,
) -> None:
    """Fit a border case's uncertain parameters to its observations by grid search."""
    from rich.table import Table

    from borderflow.calibrate.grid import current_values, fit_case
    from borderflow.scenario.locate import resolve_scenario, scenario_kind

    progress = LazyProgress(f"fitting {scenario}", delay=0.5, unit="grid points")
    try:
        path = resolve_scenario(scenario)
        if scenario_kind(path) != "border":
            raise ScenarioError("grid fitting needs a border case (scenario.toml)", file=path)
        started = False

        def tick(done: int, total: int) -> None:
            nonlocal started
            if not started:
                progress.start(total)
                started = True
            progress.advance(done - 1)

        case, spec, points = fit_case(path, grid, tick)
    except ScenarioError as exc:
        progress.stop()
        fail(exc)
        return
    progress.stop()
    names = list(spec.grid)
    table = Table(title=f"{case.name}: {len(points)} grid points, seeds {spec.fit.seeds}")
    for n in names:
        table.add_column(n, justify="right")
    table.add_column("loss", justify="right")
    table.add_column("obs. inside range", justify="right")
    for p in points[:top]:
        table.add_row(
            *(f"{p.values[n]:.4g}" for n in names), f"{p.loss:.4f}", f"{p.inside}/{p.total}"
        )
    out.print(table)
    best, now = points[0].values, current_values(case, names)

    def holds(p) -> bool:
        return all(abs(p.values[n] - now[n]) <= 1e-12 * max(1.0, abs(now[n])) for n in names)

    tied = [p for p in points if p.loss == points[0].loss]
    out.print("best point: " + ", ".join(f"{n} = {best[n]:.4g}" for n in names), highlight=False)
    if any(holds(p) for p in tied):
        out.print(
            "scenario.toml holds the best point"
            + (f" ({len(tied)} points tie for best)." if len(tied) > 1 else ".")
        )
    else:
        out.print(
            "scenario.toml differs: " + ", ".join(f"{n} = {now[n]:.4g}" for n in names),
            highlight=False,
        )
