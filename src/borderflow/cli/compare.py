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
from borderflow.i18n import N_, fmt_number, fmt_signed, translator
from borderflow.results.headline import ALL_CROSSINGS


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
    _print_comparison(result, seed, lang)


#: The comparison's figures not among the headline figures (whose labels are marked there).
EXTRA_FIGURES = {"people in need at the peak": N_("people in need at the peak")}


def _figure(metric: str, crossing: str, lang: str) -> tuple[str, str]:
    """A figure's label and its crossing, as the table shows them in ``lang``."""
    T = translator(lang)
    return T(EXTRA_FIGURES.get(metric, metric)), T(
        crossing
    ) if crossing == ALL_CROSSINGS else crossing


def _print_comparison(result, seed: int, lang: str) -> None:
    from rich.table import Table

    T = translator(lang)
    title = T(
        "{case}: variants on the same random numbers (seed {seed})", case=result.case, seed=seed
    )
    table = Table(title=title)
    table.add_column(T("figure (from the forecast origin)"))
    table.add_column(T("crossing"))
    for k, label in enumerate(result.labels):
        table.add_column(T("{label} (baseline)", label=label) if k == 0 else label, justify="right")
    for metric, crossing, values in result.rows:
        cells = [fmt_number(values[0], lang)]
        cells += [f"{fmt_number(v, lang)} ({fmt_signed(v - values[0], lang)})" for v in values[1:]]
        table.add_row(*_figure(metric, crossing, lang), *cells)
    out.print(table)
    out.print(T("wrote {files}", files=", ".join(str(p) for p in result.files)), highlight=False)


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
    from rich.markup import escape

    T = translator(lang)
    table = Table(
        title=escape(T(
            "{case}: {members} members per variant, paired (seed {seed}); median [90 % interval]",
            case=result.case, members=members, seed=seed,
        ))
    )  # fmt: skip
    table.add_column(T("figure (from the forecast origin)"))
    table.add_column(T("crossing"))
    table.add_column(T("{label} (baseline)", label=result.labels[0]), justify="right")
    for label in result.labels[1:]:
        table.add_column(T("{label}: change", label=label), justify="right")
    for key in result.values:
        mid, lo, hi = (fmt_number(v, lang) for v in result.interval(key, 0, diff=False))
        cells = [f"{mid} [{lo}-{hi}]"]
        for k in range(1, len(result.labels)):
            dmid, dlo, dhi = (fmt_signed(v, lang) for v in result.interval(key, k, diff=True))
            cells.append(T("{mid} [{low} to {high}]", mid=dmid, low=dlo, high=dhi))
        table.add_row(*_figure(key[0], key[1], lang), *cells)
    out.print(table)
    out.print(T("wrote {files}", files=", ".join(str(p) for p in result.files)), highlight=False)
