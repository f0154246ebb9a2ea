"""``borderflow export``: a run's route graph for GIS tools, and an HDX-ready dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from borderflow.console import fail, out
from borderflow.errors import ScenarioError

export_app = typer.Typer(help="A border run's outputs in the field's formats: GeoJSON, HDX.")

RunDir = Annotated[Path, typer.Argument(help="A border run's folder (from borderflow run).")]


def _load(run_dir: Path):
    """The run folder's data, or one line and exit 2."""
    from borderflow.report.geojson import load_run

    try:
        return load_run(run_dir)
    except ScenarioError as exc:
        fail(exc)


@export_app.command("geojson")
def export_geojson(
    run_dir: RunDir,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="File to write (default RUN_DIR/routes.geojson).")
    ] = None,
) -> None:
    """Places, crossings and roads with flows and peak stranded, as GeoJSON (RFC 7946)."""
    from borderflow.report.geojson import write_geojson
    from borderflow.results.atomic import atomic_outputs

    run = _load(run_dir)
    path = out_file or run_dir / "routes.geojson"
    with atomic_outputs(path.parent) as files:
        files.write(path.name, lambda p: write_geojson(run, p))
    out.print(f"wrote {path}", highlight=False)


@export_app.command("hdx")
def export_hdx(
    run_dir: RunDir,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Folder to write (default RUN_DIR/hdx).")
    ] = None,
) -> None:
    """An HDX-ready dataset: HXL CSV with p-codes, GeoJSON, and hdx-metadata.json."""
    from borderflow.report.hdx import write_hdx

    run = _load(run_dir)
    for path in write_hdx(run, out_dir or run_dir / "hdx"):
        out.print(f"wrote {path}", highlight=False)
