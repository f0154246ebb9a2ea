"""``borderflow ensemble`` and ``borderflow sensitivity``: many runs over uncertain parameters."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from borderflow.cli.common import (
    DEFAULT_SCENARIO,
    CapacityOption,
    DaskLocalOption,
    KnownAtOriginOption,
    LangOption,
    LazyProgress,
    ParamsOption,
    SchedulerOption,
    VariantOption,
    WorkersOption,
    capacities,
    pairs,
)
from borderflow.console import err, fail, out
from borderflow.errors import ScenarioError


def ensemble(
    scenario: Annotated[str, typer.Argument(help="A border case (name or folder).")] = (
        DEFAULT_SCENARIO
    ),
    members: Annotated[int, typer.Option(min=1, help="Number of members.")] = 100,
    params: ParamsOption = None,
    seed: Annotated[int, typer.Option(min=0, help="Root seed of the whole ensemble.")] = 0,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Ensemble folder (default: results/ensemble-<case>-seed<seed>)."
        ),
    ] = None,
    variant: VariantOption = None,
    capacity: CapacityOption = None,
    known_at_origin: KnownAtOriginOption = False,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    dask_local: DaskLocalOption = None,
    lang: LangOption = "en",
) -> None:
    """Run an ensemble: members drawn from the uncertain parameters, bands over members.

    Writes one Parquet file per member (atomically), draws.csv and bands.parquet (5, 25, 50,
    75 and 95 % quantiles per indicator, place and day). Run the same command again after an
    interruption: only the missing members are computed, and the results are identical.
    """
    import time as _time

    from borderflow.ensemble.runner import run_ensemble
    from borderflow.execute import choose_executor
    from borderflow.i18n import check_language
    from borderflow.scenario.locate import resolve_scenario, scenario_kind

    progress = LazyProgress(f"ensemble {scenario}", delay=0.0, unit="members")
    t0 = _time.perf_counter()
    try:
        check_language(lang)
        path = resolve_scenario(scenario)
        if scenario_kind(path) != "border":
            raise ScenarioError("ensembles need a border case (scenario.toml)", file=path)
        target = out_dir or Path("results") / f"ensemble-{path.resolve().name}-seed{seed}"
        done = [0]

        def start(total: int, already: int) -> None:
            progress.start(total)
            done[0] = already
            if already:
                err.print(f"{already} of {total} members already done; computing the rest")

        def member(_: int) -> None:
            done[0] += 1
            progress.advance(done[0] - 1)

        result = run_ensemble(
            path, params or path / "uncertain.toml", target, members=members, seed=seed,
            variant=pairs(variant, "--variant"), capacity=capacities(capacity),
            known_at_origin=known_at_origin,
            executor=choose_executor(workers, scheduler, dask_local),
            on_start=start, on_member=member, lang=lang,
        )  # fmt: skip
    except ScenarioError as exc:
        progress.stop()
        fail(exc)
        return
    progress.stop()
    seconds = _time.perf_counter() - t0
    rate = len(result.ran) / seconds if result.ran else 0.0
    out.print(
        f"{result.members} members ({len(result.ran)} computed now, {rate:.1f} members/s) "
        f"in {target}",
        highlight=False,
    )
    out.print(f"wrote {', '.join(p.name for p in result.files)} and members/", highlight=False)


def sensitivity(
    scenario: Annotated[str, typer.Argument(help="A border case (name or folder).")] = (
        DEFAULT_SCENARIO
    ),
    n: Annotated[
        int, typer.Option("--n", min=2, help="Base sample size (a power of two); runs = N×(D+2).")
    ] = 32,
    params: ParamsOption = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the sample and of every run.")] = 0,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Folder (default: results/sensitivity-<case>-seed<seed>)."),
    ] = None,
    variant: VariantOption = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    dask_local: DaskLocalOption = None,
    lang: LangOption = "en",
) -> None:
    """Sobol' indices of the headline outputs with respect to the uncertain parameters."""
    from borderflow.ensemble.params import read_uncertain
    from borderflow.ensemble.sensitivity import sobol
    from borderflow.execute import choose_executor
    from borderflow.i18n import check_language
    from borderflow.scenario.border_io import read_border_case
    from borderflow.scenario.locate import resolve_scenario, scenario_kind

    progress = LazyProgress(f"sensitivity {scenario}", delay=0.0, unit="runs")
    try:
        check_language(lang)
        path = resolve_scenario(scenario)
        if scenario_kind(path) != "border":
            raise ScenarioError("sensitivity needs a border case (scenario.toml)", file=path)
        case = read_border_case(path, pairs(variant, "--variant"))
        uncertain = read_uncertain(params or path / "uncertain.toml", case)
        target = out_dir or Path("results") / f"sensitivity-{path.resolve().name}-seed{seed}"
        started = [False]

        def tick(done: int, total: int) -> None:
            if not started[0]:
                progress.start(total)
                started[0] = True
            progress.advance(done - 1)

        executor = choose_executor(workers, scheduler, dask_local)
        result = sobol(
            case, uncertain, target, n=n, seed=seed, executor=executor, on_run=tick, lang=lang
        )
    except ScenarioError as exc:
        progress.stop()
        fail(exc)
        return
    progress.stop()
    _print_sobol(result, lang)


def _print_sobol(result, lang: str) -> None:
    """One table per output: the parameters ranked by their total index, in ``lang``."""
    import numpy as np
    from babel.numbers import format_decimal
    from rich.table import Table

    from borderflow.i18n import translator
    from borderflow.report.plots.ensemble import figure_name

    T = translator(lang)

    def index(value: float) -> str:
        return format_decimal(value, format="0.000", locale=lang)

    for output, ind in result.indices.items():
        label, _, crossing = output.rpartition(", ")
        title = T("{case}: {output} ({runs} runs), ranked by total index", case=result.case,
                  output=figure_name(label, crossing, lang), runs=result.runs)  # fmt: skip
        table = Table(title=title)
        table.add_column(T("parameter"), justify="left")
        for col in (T("total (ST)"), T("first order (S1)")):
            table.add_column(col, justify="right")
        for j in np.argsort(-ind["ST"]):
            table.add_row(
                result.names[j],
                f"{index(ind['ST'][j])} ± {index(ind['ST_conf'][j])}",
                f"{index(ind['S1'][j])} ± {index(ind['S1_conf'][j])}",
            )
        out.print(table)
    out.print(T("wrote {files}", files=", ".join(str(p) for p in result.files)), highlight=False)
