"""``borderflow new-case``, ``check`` and ``score``: writing a case and scoring what it gave."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from borderflow.cli.common import LangOption
from borderflow.console import err, fail, out
from borderflow.errors import ScenarioError


def new_case(
    folder: Annotated[Path, typer.Argument(help="The new case folder (must not exist yet).")],
) -> None:
    """Write a case folder to fill in: every file with its header, HXL row and an example row."""
    from borderflow.scenario.case_template import write_new_case

    try:
        files = write_new_case(folder)
    except ScenarioError as exc:
        fail(exc)
    out.print(f"wrote {folder}/ ({', '.join(p.name for p in files)})", highlight=False)
    out.print(
        f"Next: fill in the files (example rows start with '# '), then `borderflow check {folder}`"
        " lists what is left.",
        highlight=False,
    )


def check(
    case: Annotated[str, typer.Argument(help="A border case (name or folder).")],
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Where map.png goes (default: results/<case>-check)."),
    ] = None,
) -> None:
    """Validate a case without running it: errors (exit 2), warnings, and its map."""
    from borderflow.scenario.case_lint import lint_case
    from borderflow.scenario.locate import resolve_scenario, scenario_kind

    try:
        root = resolve_scenario(case)
        if scenario_kind(root) != "border":
            raise ScenarioError("a Flee scenario: `check` validates border cases", file=root)
    except ScenarioError as exc:
        fail(exc)
    root = root.parent if root.is_file() else root
    findings, loaded = lint_case(root)
    for f in findings:
        colour = "red" if f.level == "error" else "yellow"
        console = err if f.level == "error" else out
        console.print(f"[bold {colour}]{f.level}:[/] {f.where}: {f.message}", highlight=False,
                      soft_wrap=True)  # fmt: skip
    errors = sum(f.level == "error" for f in findings)
    warnings = len(findings) - errors
    if loaded is not None:
        from borderflow.report.plots.common import save_png
        from borderflow.report.plots.network import plot_map
        from borderflow.results.series import schema

        folder = out_dir or Path("results") / f"{loaded.name}-check"
        folder.mkdir(parents=True, exist_ok=True)
        save_png(plot_map(schema().empty_table(), loaded), folder / "map.png")
        out.print(f"map of the case's places and roads: {folder / 'map.png'}", highlight=False)
    if errors:
        err.print(f"[bold red]{errors} error(s)[/], {warnings} warning(s): fix the errors first")
        raise typer.Exit(2)
    out.print(f"{root}: valid, {warnings} warning(s)", highlight=False)


def score(
    run: Annotated[Path, typer.Argument(help="A run folder or an ensemble folder.")],
    outcomes: Annotated[Path, typer.Argument(help="Reported outcomes (observations.csv format).")],
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Where score.csv and score.png go (default: RUN).")
    ] = None,
    lang: LangOption = "en",
) -> None:
    """Score a run or an ensemble against reports: table, score.csv (HXL) and score.png."""
    from rich.table import Table

    from borderflow.calibrate.outcomes import (
        SCORE_CSV,
        SCORE_PNG,
        SCORE_TAGS,
        load_members,
        plot_scores,
        score_outcomes,
        summary,
    )
    from borderflow.i18n import check_language, fmt_number, translator
    from borderflow.report.plots.common import save_png
    from borderflow.results.atomic import atomic_outputs
    from borderflow.results.hxl import write_csv

    try:
        check_language(lang)
        members, kind = load_members(run)
        scored, notes = score_outcomes(members, outcomes)
    except ScenarioError as exc:
        fail(exc)
    ens = kind == "ensemble"
    table = Table(title=f"{kind} {run} ({len(members)} member(s)) against {outcomes.name}")
    cols = ["date", "stat", "location", "indicator", "reported", "median" if ens else "model"]
    for col in cols + (["90 % band", "inside", "CRPS"] if ens else ["inside"]):
        table.add_column(col, justify="right" if col not in cols[:4] else "left")
    for s in scored:
        o = s.obs
        when = f"{o.date}" + (f"..{o.end}" if o.end else "")
        row = [when, o.stat, o.location, o.indicator, f"{o.low:,.0f}–{o.high:,.0f}",
               f"{s.median:,.1f}"]  # fmt: skip
        if ens:
            lo, hi = s.band()
            row += [f"{lo:,.0f}–{hi:,.0f}"]
        row += ["yes" if s.inside else "[red]no[/]"] + ([f"{s.crps:,.1f}"] if ens else [])
        table.add_row(*row)
    out.print(table)
    for note in notes:
        err.print(f"[yellow]warning:[/] {outcomes}, {note}", highlight=False)
    sums = summary(scored)
    line = f"coverage {sums['coverage']:.0%} of {sums['reports']} report(s)"
    out.print(line + (f", mean CRPS {sums['crps']:,.2f}" if ens else ""), highlight=False)
    folder = out_dir or run
    with atomic_outputs(folder) as files:
        files.write(SCORE_CSV, lambda p: write_csv(p, SCORE_TAGS, (s.row() for s in scored)))
        if scored:
            T = translator(lang)
            title = T(
                "{kind} {run} against {outcomes}: coverage {coverage} of {n} report(s)",
                kind=T("ensemble") if ens else T("run"), run=run.name, outcomes=outcomes.name,
                coverage=f"{sums['coverage']:.0%}", n=sums["reports"],
            )  # fmt: skip
            if ens:
                title += ", " + T("mean CRPS {crps}", crps=fmt_number(sums["crps"], lang, 2))
            fig = plot_scores(scored, title, lang)
            files.write(SCORE_PNG, lambda p: save_png(fig, p))
    out.print(f"wrote {folder}/ ({SCORE_CSV}, {SCORE_PNG})", highlight=False)
