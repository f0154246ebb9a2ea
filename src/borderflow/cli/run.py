"""``borderflow run``: one scenario, border case or Flee, into its run folder.

The Flee path imports only the engine and its writers: no plotting, database, web app, Dask
or pandas (tests/test_architecture.py checks it), so a short run starts at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from borderflow.cli.common import (
    DEFAULT_SCENARIO,
    CapacityOption,
    Compat,
    KnownAtOriginOption,
    LangOption,
    LazyProgress,
    VariantOption,
    capacities,
    fmt,
    pairs,
)
from borderflow.console import err, fail, out
from borderflow.errors import ScenarioError


def run(
    scenario: Annotated[
        str,
        typer.Argument(
            help="A built-in case (chile-peru-2025, chile-peru-2023, mali, burundi), a border "
            "case folder (scenario.toml) or a Flee scenario folder."
        ),
    ] = DEFAULT_SCENARIO,
    seed: Annotated[int, typer.Option(min=0, help="Root random seed.")] = 0,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Run folder (default: results/<scenario>-seed<seed>)."),
    ] = None,
    variant: VariantOption = None,
    capacity: CapacityOption = None,
    known_at_origin: KnownAtOriginOption = False,
    plots: Annotated[bool, typer.Option(help="Border cases: write PNG plots.")] = True,
    lang: LangOption = "en",
    days: Annotated[
        int | None, typer.Option(min=1, help="Flee scenarios: simulate this many days.")
    ] = None,
    settings: Annotated[
        Path | None, typer.Option(help="Flee scenarios: a simsetting.yml (default: code defaults).")
    ] = None,
    compat: Annotated[
        Compat | None,
        typer.Option(
            help="Flee scenarios: follow Flee's current code (head) or its 3.1 release; default: "
            "borderflow's rules, each taken from whichever was more accurate (docs/flee.md)."
        ),
    ] = None,
) -> None:
    """Run a scenario and write its run folder.

    Border cases write series.csv (HXL), series.parquet, summary.json, run.json and plots; Flee
    scenarios write out.csv (Flee's format), series.parquet and run.json.
    """
    from borderflow.i18n import check_language
    from borderflow.scenario.locate import resolve_scenario, scenario_kind

    try:
        check_language(lang)
    except ScenarioError as exc:
        fail(exc)

    progress = LazyProgress(f"{scenario} seed {seed}")
    from borderflow.runs import preload

    preload("rich.table")  # the summary table's module loads while the engine runs
    try:
        path = resolve_scenario(scenario)
        if scenario_kind(path) == "border":
            inputs = (variant, capacity, known_at_origin)
            _run_border(path, seed, out_dir, inputs, (plots, lang), progress)
        else:
            _run_flee(path, seed, out_dir, days, settings, compat, progress)
    except ScenarioError as exc:
        progress.stop()
        fail(exc)


def _run_flee(
    path: Path,
    seed: int,
    out_dir: Path | None,
    days: int | None,
    settings: Path | None,
    compat: Compat | None,
    progress: LazyProgress,
) -> None:
    from rich.table import Table

    from borderflow.runs import run_flee

    target = out_dir or Path("results") / f"{path.resolve().name}-seed{seed}"
    result = run_flee(
        path,
        seed=seed,
        days=days,
        settings_path=settings,
        compatibility=compat.value if compat else None,
        out_dir=target,
        on_start=progress.start,
        on_day=progress.advance,
    )
    progress.stop()
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)
    camps = result.camps
    table = Table(title=f"{result.result.name}, seed {seed}: day {result.days - 1}, camps")
    for col in ("camp", "simulated", "observed", "rel. error"):
        table.add_column(col, justify="left" if col == "camp" else "right")
    for k, name in enumerate(camps.camps):
        s, d = camps.sim[-1, k], camps.data[-1, k]
        rel = f"{abs(s / d - 1):.3f}" if d > 0 else "-"
        table.add_row(name, f"{int(s):,}", f"{int(d):,}", rel)
    out.print(table)
    sc = result.scores
    out.print(
        f"agents {int(camps.n_agents[-1]):,} | Error (rescaled) {fmt(sc['error_rescaled'])} | "
        f"Error (normal) {fmt(sc['error_normal'])} | {result.seconds:.2f} s"
    )
    out.print(f"wrote {', '.join(str(p) for p in result.files)}", highlight=False)


def _variant_tag(variant: dict[str, str], defaults: dict[str, str]) -> str:
    changed = [f"{k}-{v}" for k, v in sorted(variant.items()) if defaults.get(k) != v]
    return "-".join(changed)


def _run_border(
    path: Path,
    seed: int,
    out_dir: Path | None,
    inputs: tuple[list[str] | None, list[str] | None, bool],
    plots_lang: tuple[bool, str],
    progress: LazyProgress,
) -> None:
    """Run a border case.

    ``inputs``: the variant, capacities and --known-at-origin; ``plots_lang``: whether to draw
    the charts, and the language.
    """
    from borderflow.report.summary import print_border_summary
    from borderflow.runs import run_border
    from borderflow.scenario.border_io import read_border_case

    plots, lang = plots_lang
    variant, capacity, known = inputs
    choice = pairs(variant, "--variant")
    caps = capacities(capacity)
    if out_dir is None:
        case = read_border_case(path, choice)
        defaults = {k: d.default for k, d in case.spec.variants.items()}
        tag = _variant_tag(case.variant, defaults)
        name = case.name + (f"-{tag}" if tag else "") + (f"-cap{len(caps)}" if caps else "")
        name += "-known-at-origin" if known else ""
        out_dir = Path("results") / f"{name}-seed{seed}"
    result = run_border(
        path,
        seed=seed,
        variant=choice,
        capacity=caps,
        known_at_origin=known,
        out_dir=out_dir,
        plots=plots,
        lang=lang,
        on_start=progress.start,
        on_day=progress.advance,
    )
    progress.stop()
    print_border_summary(out, result, lang)
    out.print(f"wrote {out_dir}/ ({', '.join(p.name for p in result.files)})", highlight=False)
