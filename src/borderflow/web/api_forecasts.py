"""Forecasts of the daily cycle and their history: every stored origin, its bands, its reports.

A scenario's forecasts live in the server's data folder, ``DATA/forecasts/<scenario>/``, one
forecast store (:mod:`borderflow.forecast.store`) per scenario, written by
``borderflow forecast <scenario> --out DATA/forecasts/<scenario>``. Stored forecasts are never
overwritten, so the list is what was forecast on each day.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import HTTPException, Path, Query, Request, Response

from borderflow.web import catalogue, results
from borderflow.web.auth import Viewer
from borderflow.web.routing import api_router
from borderflow.web.schemas import PLAIN, AssimilatedRow, BandRow, ForecastOut

router = api_router("forecasts")
Name = Annotated[str, Path(max_length=200, examples=["chile-peru-2023"])]
Origin = Annotated[dt.date, Path(examples=["2023-05-08"])]
Filter = Annotated[str | None, Query(max_length=200, pattern=PLAIN)]
NOT_FOUND = {404: {"description": "No such scenario, or no forecast from that origin."}}


def store_of(request: Request, name: str) -> FilePath:
    """The scenario's forecast store (404 for a scenario not offered or not a border case)."""
    if catalogue.kind_of(name) != "border":
        raise HTTPException(404, f"'{name}' is a Flee scenario: forecasts are of border cases")
    return request.app.state.data_dir / "forecasts" / name


def forecast_out(folder: FilePath) -> dict[str, Any]:
    from borderflow.forecast.store import manifest

    m = manifest(folder)
    return {
        "origin": m["origin"],
        "parent": m["parent"].removeprefix("origin-") if m["parent"] else None,
        "new_reports": m["new_reports"],
        "reports": len(m["reports"]),
        "generation": m["generation"],
        "members": m["settings"]["members"],
        "seed": m["settings"]["seed"],
    }


def _folder(request: Request, name: str, origin: dt.date) -> FilePath:
    from borderflow.forecast.store import MANIFEST, folder_of

    folder = folder_of(store_of(request, name), origin)
    if not (folder / MANIFEST).exists():
        raise HTTPException(404, f"no forecast of '{name}' from {origin}")
    return folder


@router.get("/forecasts/{name}", response_model=list[ForecastOut], responses=NOT_FOUND)
def list_forecasts(name: Name, request: Request, user: Viewer) -> list[dict]:
    """Every stored forecast of a scenario, oldest origin first: the forecasts' history."""
    from borderflow.forecast.store import stored

    return [forecast_out(f) for f in stored(store_of(request, name))]


@router.get("/forecasts/{name}/{origin}/bands", response_model=list[BandRow], responses=NOT_FOUND)
def get_forecast_bands(
    name: Name,
    origin: Origin,
    request: Request,
    user: Viewer,
    indicator: Filter = None,
    location: Filter = None,
) -> Response:
    """A forecast's 5, 25, 50, 75 and 95 % quantiles and mean over members, per day and place."""
    table = results.bands(_folder(request, name, origin), indicator, location)
    return Response(results.json_bytes(results.rows(table)), media_type="application/json")


@router.get(
    "/forecasts/{name}/{origin}/assimilated",
    response_model=list[AssimilatedRow],
    responses=NOT_FOUND,
)
def get_assimilated(name: Name, origin: Origin, request: Request, user: Viewer) -> list[dict]:
    """The reports a forecast weighed (beyond its parent's), with the ESS after each step."""
    from borderflow.csvfile import csv_rows
    from borderflow.forecast.store import ASSIMILATED

    rows = csv_rows(_folder(request, name, origin) / ASSIMILATED)
    header = [h.strip() for h in rows[0][1]]
    return [dict(zip(header, cells, strict=True)) for _, cells in rows[2:]]
