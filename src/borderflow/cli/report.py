"""``borderflow report``: the situation report of a run or forecast, for a committee meeting."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from borderflow.console import fail, out
from borderflow.errors import ScenarioError


def report(
    folder: Annotated[
        Path, typer.Argument(help="A run folder or an ensemble/forecast folder (bands.parquet).")
    ],
    lang: Annotated[str, typer.Option("--lang", help="Language: es or en.")] = "en",
    fmt: Annotated[str, typer.Option("--format", help="pdf or html.")] = "pdf",
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Where to write it (default: FOLDER/situation-report-LANG.FORMAT)."
        ),
    ] = None,
    compare: Annotated[
        Path | None,
        typer.Option(help="A `borderflow compare` folder (or its compare.csv) to include."),
    ] = None,
    since: Annotated[
        Path | None,
        typer.Option(
            help="Compare with this report.json (default: the last one beside the report)."
        ),
    ] = None,
) -> None:
    """Write a situation report of one or two pages, in Spanish or English.

    Headline figures with 90 % ranges, the fan chart of people stranded, needs, the policy
    comparison, what changed since the last report, and the sources and assumptions.
    """
    from borderflow.report.situation import REPORT_JSON, build_report, headline_record
    from borderflow.results.atomic import atomic_outputs

    if not folder.is_dir():
        fail(ScenarioError(f"{folder}: no such folder"))
    target = out_file or folder / f"situation-report-{lang}.{fmt}"
    try:
        made = build_report(
            folder, lang, fmt, previous=since or target.parent / REPORT_JSON, compare=compare
        )
    except ScenarioError as exc:
        fail(exc)
        return
    with atomic_outputs(target.parent) as files:
        files.write(target.name, lambda p: p.write_bytes(made.content))
        files.write(REPORT_JSON, lambda p: p.write_text(headline_record(made, lang)))
    out.print(f"wrote {target}", highlight=False)
