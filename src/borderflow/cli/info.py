"""``borderflow info`` and ``borderflow validate``: describe a case, score a finished run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from borderflow.cli.common import DEFAULT_SCENARIO, fmt
from borderflow.console import fail, out
from borderflow.errors import ScenarioError


def validate(
    run_dir: Annotated[Path, typer.Argument(help="A run folder (or an out.csv file).")],
) -> None:
    """Print Flee's validation scores and MASE for a run against the observed camp counts."""
    from rich.table import Table

    from borderflow.results.flee_out import read_out_csv
    from borderflow.results.metrics import mase, rescaled, scores

    path = run_dir / "out.csv" if run_dir.is_dir() else run_dir
    try:
        series = read_out_csv(path)
    except ScenarioError as exc:
        fail(exc)
        return
    sc = scores(series)
    out.print(f"Error (rescaled): {fmt(sc['error_rescaled'])}")
    out.print(f"Error (normal): {fmt(sc['error_normal'])}")
    out.print(f"MASE (persistence from day 7): {fmt(sc['mase_7'])}")
    out.print(f"MASE (persistence from day 30): {fmt(sc['mase_30'])}")
    sim_r = rescaled(series.sim, series.data)
    table = Table(title="per camp (rescaled simulation)")
    for col in ("camp", "mean |sim-data|", "MASE(7)", "MASE(30)", "observed total"):
        table.add_column(col, justify="left" if col == "camp" else "right")
    for k, name in enumerate(series.camps):
        s, d = sim_r[:, [k]], series.data[:, [k]]
        table.add_row(
            name,
            f"{abs(s - d).mean():,.1f}",
            fmt(mase(s, d, 7)),
            fmt(mase(s, d, 30)),
            f"{int(d.sum()):,}",
        )
    out.print(table)


def info(
    scenario: Annotated[str, typer.Argument(help="A border case (name or folder).")] = (
        DEFAULT_SCENARIO
    ),
) -> None:
    """Describe a border case: dates, crossings, variants, and every parameter's provenance."""
    from rich.table import Table

    from borderflow.scenario.border_io import parameter_sources, read_border_case
    from borderflow.scenario.locate import resolve_scenario

    try:
        case = read_border_case(resolve_scenario(scenario))
    except ScenarioError as exc:
        fail(exc)
        return
    c = case.spec.case
    out.print(f"[bold]{c.title}[/] ({case.name})")
    out.print(f"{c.start} to {c.end}, forecast origin {c.origin}", highlight=False)
    out.print(c.description.strip(), highlight=False)
    crossings = Table(title="crossings")
    for col in ("crossing", "exit post", "entry post", "hours", "capacity/day", "regular/day"):
        crossings.add_column(col)
    for x in case.crossings:
        crossings.add_row(
            x.name,
            x.exit_post,
            x.entry_post,
            f"{x.open_hour:g}-{x.close_hour:g}",
            f"{x.capacity_per_day:,}",
            f"{x.regular_per_day:,}",
        )
    out.print(crossings)
    variants = Table(title="variants (-v dimension=option)")
    for col in ("dimension", "option", "description"):
        variants.add_column(col)
    for name, dim in case.spec.variants.items():
        for option, v in dim.options.items():
            label = option + (" (default)" if option == dim.default else "")
            variants.add_row(name, label, v.description)
    out.print(variants)
    params = Table(title="parameters")
    for col in ("parameter", "value", "source or assumption"):
        params.add_column(col)
    for p in parameter_sources(case):
        why = f"source: {p.source}" if p.source else f"assumption: {p.assumption}"
        params.add_row(p.parameter, f"{p.value:g}", why)
    out.print(params)
