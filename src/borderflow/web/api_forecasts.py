"""Forecasts of the daily cycle and their history: every stored origin, its bands, its reports.

A scenario's forecasts live in the server's data folder, ``DATA/forecasts/<scenario>/``, one
forecast store (:mod:`borderflow.forecast.store`) per scenario, written by
``borderflow forecast <scenario> --out DATA/forecasts/<scenario>``. Stored forecasts are never
overwritten, so the list is what was forecast on each day. An analyst queues the next step of
the cycle (:mod:`borderflow.web.forecasting`) with ``POST /forecasts/<scenario>/update``; an
admin may let every upload queue it (``PUT /forecast-settings``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import HTTPException, Path, Query, Request, Response
from sqlalchemy.orm import Session

from borderflow.observe.store import ObservationIn
from borderflow.web import catalogue, results
from borderflow.web.auth import Admin, Analyst, Viewer
from borderflow.web.db import audit, reading, writing
from borderflow.web.forecasting import (
    UPDATE_ON_UPLOAD,
    case_reports,
    latest_manifest,
    locations,
    pending,
)
from borderflow.web.models import Run, Setting, utcnow
from borderflow.web.routing import BODY_RESPONSES, api_router
from borderflow.web.schemas import (
    PLAIN,
    AssimilatedRow,
    BandRow,
    ForecastOut,
    ForecastSettingsIn,
    ForecastSettingsOut,
    ForecastUpdateIn,
    PendingRow,
    RunAccepted,
)

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
        "error_variance_per_day": m.get("model_error", {}).get("variance_per_day"),
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


@router.get("/forecasts/{name}/pending", response_model=list[PendingRow], responses=NOT_FOUND)
def get_pending(name: Name, request: Request, user: Viewer) -> list[dict]:
    """The stored reports of the case's places that its latest forecast has not weighed."""
    from borderflow.observe.fitting import stored_observations

    folder = store_of(request, name)  # first: a Flee scenario is not found here (404)
    case = catalogue.border_case(name)
    latest = latest_manifest(folder)
    rows = case_reports(case, stored_observations(request.app.state.store.url))
    return [
        {
            "date": o.date,
            "end_date": o.end or o.date,
            "stat": o.stat,
            "place_name": o.location,
            "indicator": o.indicator,
            "value_low": o.low,
            "value_high": o.high,
            "reliability": o.reliability,
        }
        for o in pending(rows, latest)
    ]


def queue_update(session: Session, name: str, body: ForecastUpdateIn, by: str) -> Run:
    """A forecast job's row, in the caller's transaction; submit it once that commits."""
    run = Run(
        kind="forecast", scenario=name, variant={}, capacity={}, seed=body.seed,
        members=body.members, status="queued", progress=0.0, message="", created_by=by,
        created_at=utcnow(),
    )  # fmt: skip
    session.add(run)
    session.flush()
    run.folder = f"forecasts/{name}"
    return run


@router.post(
    "/forecasts/{name}/update",
    status_code=202,
    response_model=RunAccepted,
    responses={**NOT_FOUND, **BODY_RESPONSES},
)
def update_forecast(name: Name, body: ForecastUpdateIn, request: Request, user: Analyst) -> dict:
    """Queue the next step of the scenario's forecast cycle; follow it at ``/api/runs/{id}``.

    It goes on from the latest stored forecast (with its members and seed) and weighs the
    stored reports it has not used; the first forecast of a scenario takes ``members`` and
    ``seed``.
    """
    store_of(request, name)
    with writing(request.app.state.store.engine) as session:
        run = queue_update(session, name, body, user.username)
        audit(session, user.username, "forecast.update", name, body.model_dump())
    request.app.state.jobs.submit(run.id)
    return {"id": run.id, "status": run.status}


def update_on_upload(request: Request) -> bool:
    with reading(request.app.state.store.engine) as session:
        row = session.get(Setting, UPDATE_ON_UPLOAD)
    return bool(row and row.value)


def _reported(name: str, rows: list[ObservationIn]) -> bool:
    """Whether an upload reports one of the case's places within its period."""
    case = catalogue.border_case(name)
    places, spec = locations(case), case.spec.case
    return any(r.place_name in places and spec.start <= r.date < spec.end for r in rows)


def after_upload(request: Request, rows: list[ObservationIn], by: str) -> list[int]:
    """Queue the next forecast of each scenario an upload reports on, if an admin set so.

    Only scenarios whose cycle has begun (a forecast is stored) are updated: the first
    forecast, with its members and seed, is an analyst's choice. Returns the jobs' ids.
    """
    from borderflow.forecast.store import stored

    if not update_on_upload(request):
        return []
    names = [
        n for n in catalogue.names()
        if catalogue.kind_of(n) == "border" and stored(store_of(request, n)) and _reported(n, rows)
    ]  # fmt: skip
    with writing(request.app.state.store.engine) as session:
        runs = [queue_update(session, n, ForecastUpdateIn(), by) for n in names]
        for n in names:
            audit(session, by, "forecast.update", n, {"on": "upload"})
    for run in runs:
        request.app.state.jobs.submit(run.id)
    return [r.id for r in runs]


def _settings(request: Request) -> dict:
    with reading(request.app.state.store.engine) as session:
        row = session.get(Setting, UPDATE_ON_UPLOAD)
    if row is None:
        return {"update_on_upload": False, "updated_by": None, "updated_at": None}
    return {"update_on_upload": bool(row.value), "updated_by": row.updated_by,
            "updated_at": row.updated_at}  # fmt: skip


@router.get("/forecast-settings", response_model=ForecastSettingsOut)
def get_forecast_settings(request: Request, user: Viewer) -> dict:
    """Whether an upload queues the next forecast of the scenarios it reports on."""
    return _settings(request)


@router.put("/forecast-settings", response_model=ForecastSettingsOut, responses=BODY_RESPONSES)
def put_forecast_settings(body: ForecastSettingsIn, request: Request, user: Admin) -> dict:
    """Set whether an upload queues the next forecast (admins only)."""
    with writing(request.app.state.store.engine) as session:
        row = session.get(Setting, UPDATE_ON_UPLOAD)
        if row is None:
            row = Setting(key=UPDATE_ON_UPLOAD)
            session.add(row)
        row.value, row.updated_by, row.updated_at = body.update_on_upload, user.username, utcnow()
        audit(session, user.username, "forecast.settings", UPDATE_ON_UPLOAD, body.model_dump())
    return _settings(request)
