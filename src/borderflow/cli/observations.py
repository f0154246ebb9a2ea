"""``borderflow obs``: the observation store: import, export and list counts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from borderflow.cli.common import (
    DbOption,
    IndicatorOption,
    PlaceOption,
    SinceOption,
    obs_filters,
)
from borderflow.console import err, fail, out
from borderflow.errors import ScenarioError

obs_app = typer.Typer(help="The observation store: import, export and list counts.")

HistoryOption = Annotated[
    bool,
    typer.Option(
        "--history", help="Also every value a correction replaced, with who recorded it and when."
    ),
]


@obs_app.command("import")
def obs_import(
    files: Annotated[list[Path], typer.Argument(help="HXL-tagged CSV files.")],
    db: DbOption = None,
) -> None:
    """Import observations; a file with any bad row is rejected whole, every bad row listed."""
    from borderflow.observe.store import ImportRejectedError, Store

    try:
        store = Store(db)
        for path in files:
            report = store.import_file(path)
            out.print(
                f"{path}: {report.rows} rows, {report.added} added, {report.revised} revised, "
                f"{report.already_stored} already stored",
                highlight=False,
            )
    except ImportRejectedError as exc:
        _rejected(exc)
    except ScenarioError as exc:
        fail(exc)


def _rejected(exc) -> None:
    """A rejected file: every bad row on its own line, then the verdict; exit status 2."""
    for e in exc.errors:
        err.print(f"{exc.path}, {e.describe()}", highlight=False, soft_wrap=True)
    err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
    raise typer.Exit(2) from None


@obs_app.command("import-flee")
def obs_import_flee(
    scenario: Annotated[
        str, typer.Argument(help="A Flee scenario folder or name (mali, burundi).")
    ],
    db: DbOption = None,
) -> None:
    """Import a Flee scenario's camp series (UNHCR counts) as observations."""
    from borderflow.observe.store import Store
    from borderflow.scenario.locate import resolve_scenario

    try:
        path = resolve_scenario(scenario)
        report = Store(db).import_flee(path)
    except ScenarioError as exc:
        fail(exc)
        return
    out.print(
        f"{scenario}: {report.rows} camp counts, {report.added} added, {report.revised} revised, "
        f"{report.already_stored} already stored",
        highlight=False,
    )


@obs_app.command("import-dtm")
def obs_import_dtm(
    file: Annotated[Path, typer.Argument(help="A DTM flow-monitoring CSV (HXL tags optional).")],
    case: Annotated[
        str, typer.Option("--case", help="The case whose crossings the points belong to.")
    ],
    point: Annotated[
        list[str] | None,
        typer.Option(
            "--point",
            help="POINT=CROSSING: map a flow monitoring point to a crossing (repeatable). "
            "Points named as a crossing or one of its posts need none.",
        ),
    ] = None,
    source: Annotated[str, typer.Option(help="Publisher stored with each count.")] = (
        "IOM Displacement Tracking Matrix (flow monitoring)"
    ),
    reliability: Annotated[str, typer.Option(help="Grade A-D, or empty.")] = "A",
    db: DbOption = None,
) -> None:
    """Import DTM flow-monitoring counts at the case's crossings (indicator flow_monitored)."""
    from borderflow.observe.dtm import point_map, read_dtm_rows, to_observations
    from borderflow.observe.store import ImportRejectedError, Store
    from borderflow.scenario.border_io import read_border_case
    from borderflow.scenario.locate import resolve_scenario

    try:
        explicit = {}
        for item in point or []:
            name, sep, crossing = item.partition("=")
            if not sep or not name.strip() or not crossing.strip():
                raise ScenarioError(f"'{item}' is not POINT=CROSSING", file="--point")
            explicit[name.strip()] = crossing.strip()
        crossings = read_border_case(resolve_scenario(case)).crossings
        rows = to_observations(
            file, read_dtm_rows(file), point_map(crossings, explicit), source, reliability
        )
        report = Store(db).insert(rows)
    except ImportRejectedError as exc:
        _rejected(exc)
        return
    except ScenarioError as exc:
        fail(exc)
        return
    out.print(
        f"{file}: {report.rows} counts, {report.added} added, {report.revised} revised, "
        f"{report.already_stored} already stored",
        highlight=False,
    )


def _stored(store, place, indicator, since, until, history: bool) -> list:
    """The stored rows that match the filters: current values, or every version."""
    filters = obs_filters(place, indicator, since, until)
    return store.history(**filters) if history else store.query(**filters)


@obs_app.command("export")
def obs_export(
    file: Annotated[Path, typer.Argument(help="CSV file to write (HXL-tagged).")],
    db: DbOption = None,
    place: PlaceOption = None,
    indicator: IndicatorOption = None,
    since: SinceOption = None,
    until: SinceOption = None,
    history: HistoryOption = False,
) -> None:
    """Export observations as an HXL-tagged CSV (imports back to the same observations)."""
    from borderflow.observe.store import Store
    from borderflow.results.atomic import atomic_outputs

    try:
        store = Store(db)
        rows = _stored(store, place, indicator, since, until, history)
        with atomic_outputs(file.parent if str(file.parent) else Path(".")) as o:
            o.write(file.name, lambda p: store.export_csv(rows, p, history=history))
    except ScenarioError as exc:
        fail(exc)
        return
    out.print(f"wrote {len(rows)} observations to {file}", highlight=False)


@obs_app.command("list")
def obs_list(
    db: DbOption = None,
    place: PlaceOption = None,
    indicator: IndicatorOption = None,
    since: SinceOption = None,
    until: SinceOption = None,
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many.")] = 50,
    history: HistoryOption = False,
) -> None:
    """List stored observations (filtered), oldest first."""
    from rich.table import Table

    from borderflow.observe.store import Store

    try:
        rows = _stored(Store(db), place, indicator, since, until, history)
    except ScenarioError as exc:
        fail(exc)
        return
    what = "versions of observations" if history else "observations"
    table = Table(title=f"{len(rows)} {what}" + (f" (first {limit})" if len(rows) > limit else ""))
    columns = ["date", "to", "place", "indicator", "low", "high", "stat", "source", "rel."]
    columns += ["recorded (UTC)", "by", "current"] if history else []
    for col in columns:
        table.add_column(col, justify="right" if col in ("low", "high") else "left")
    for r in rows[:limit]:
        get = r.get if isinstance(r, dict) else lambda c, r=r: getattr(r, c)
        cells = [
            get("date").isoformat(),
            get("end_date").isoformat() if get("end_date") != get("date") else "",
            get("place_name"),
            get("indicator"),
            f"{get('value_low'):g}",
            f"{get('value_high'):g}",
            get("stat"),
            get("source_publisher")[:40],
            get("reliability"),
        ]
        if history:
            at = get("recorded_at")
            cells += [at.strftime("%Y-%m-%d %H:%M") if at else "", get("recorded_by"),
                      "yes" if get("current") else "no"]  # fmt: skip
        table.add_row(*cells)
    out.print(table)
