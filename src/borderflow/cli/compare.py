"""``borderflow compare``: variants of a case on the same random numbers, side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from borderflow.cli.common import (
    CapacityOption,
    LangOption,
    LazyProgress,
    ParamsOption,
    WorkersOption,
    capacities,
    pairs,
)
from borderflow.console import fail, out
from borderflow.errors import ScenarioError


def compare(
    scenario: Annotated[str, typer.Argument(help="A border case (name or folder).")],
    variants: Annotated[
        list[str],
        typer.Argument(
            help="Two or more variants, each 'default' or 'dim=option[,dim=option]'; the "
            "first is the baseline. E.g. peru_policy=documented_only peru_policy=corridor"
        ),
    ],
    seed: Annotated[int, typer.Option(min=0, help="Root random seed shared by all variants.")] = 0,
    capacity: CapacityOption = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Folder for compare.csv and compare.png.")
    ] = None,
    members: Annotated[
        int | None,
        typer.Option(
            min=2,
            help="Compare ensembles of this many members (paired member by member) instead "
            "of single runs.",
        ),
    ] = None,
    params: ParamsOption = None,
    workers: WorkersOption = None,
    lang: LangOption = "en",
) -> None:
    """Run variants of a case on the same random numbers; print and plot their differences."""
    from rich.table import Table

    from borderflow.i18n import check_language
    from borderflow.runs import compare_border
    from borderflow.scenario.locate import resolve_scenario, scenario_kind

    progress = LazyProgress(f"comparing {scenario}", delay=0.5, unit="variants")
    try:
        check_language(lang)
        path = resolve_scenario(scenario)
        if scenario_kind(path) != "border":
            raise ScenarioError("compare needs a border case (scenario.toml)", file=path)
        choices = [
            {} if spec == "default" else pairs(spec.split(","), "variant") for spec in variants
        ]
        target = out_dir or Path("results") / f"compare-{path.resolve().name}-seed{seed}"
        if members is not None:
            _compare_ensembles(path, choices, variants, params, target, members, seed,
                               capacities(capacity), (workers, lang))  # fmt: skip
            return
        progress.start(len(choices))
        result = compare_border(
            path,
            choices,
            seed=seed,
            capacity=capacities(capacity),
            out_dir=target,
            on_run=lambda done, total: progress.advance(done - 1),
            lang=lang,
        )
    except ScenarioError as exc:
        progress.stop()
        fail(exc)
        return
    progress.stop()
    table = Table(title=f"{result.case}: variants on the same random numbers (seed {seed})")
    table.add_column("figure (from the forecast origin)")
    table.add_column("crossing")
    for k, label in enumerate(result.labels):
        table.add_column(label + (" (baseline)" if k == 0 else ""), justify="right")
    for metric, crossing, values in result.rows:
        cells = [f"{values[0]:,.0f}"]
        cells += [f"{v:,.0f} ({v - values[0]:+,.0f})" for v in values[1:]]
        table.add_row(metric, crossing, *cells)
    out.print(table)
    out.print(f"wrote {', '.join(str(p) for p in result.files)}", highlight=False)


def _compare_ensembles(
    path: Path,
    choices: list[dict[str, str]],
    specs: list[str],
    params: Path | None,
    target: Path,
    members: int,
    seed: int,
    caps: dict[str, int],
    workers_lang: tuple[int | None, str],
) -> None:
    from rich.table import Table

    from borderflow.ensemble.compare import compare_ensembles
    from borderflow.execute import choose_executor

    workers, lang = workers_lang
    progress = LazyProgress("members", delay=0.0, unit="members")
    progress.start(members * len(choices))
    done = [0]

    def tick(_: int) -> None:
        done[0] += 1
        progress.advance(done[0] - 1)

    try:
        result = compare_ensembles(
            path, choices, list(specs), params or path / "uncertain.toml", target,
            members=members, seed=seed, capacity=caps, executor=choose_executor(workers),
            on_member=tick, lang=lang,
        )  # fmt: skip
    finally:
        progress.stop()
    table = Table(
        title=f"{result.case}: {members} members per variant, paired (seed {seed}); "
        "median [90 % interval]"
    )
    table.add_column("figure (from the forecast origin)")
    table.add_column("crossing")
    table.add_column(f"{result.labels[0]} (baseline)", justify="right")
    for label in result.labels[1:]:
        table.add_column(f"{label}: change", justify="right")
    for key in result.values:
        mid, lo, hi = result.interval(key, 0, diff=False)
        cells = [f"{mid:,.0f} [{lo:,.0f}-{hi:,.0f}]"]
        for k in range(1, len(result.labels)):
            dmid, dlo, dhi = result.interval(key, k, diff=True)
            cells.append(f"{dmid:+,.0f} [{dlo:+,.0f} to {dhi:+,.0f}]")
        table.add_row(key[0], key[1], *cells)
    out.print(table)
    out.print(f"wrote {', '.join(str(p) for p in result.files)}", highlight=False)
