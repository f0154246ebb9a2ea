"""Runs and ensembles: start them, follow them, read their results, compare two of them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import HTTPException, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from sqlalchemy import select

from borderflow.errors import ScenarioError
from borderflow.web import catalogue, results
from borderflow.web.auth import Analyst, Viewer
from borderflow.web.db import audit, reading, writing
from borderflow.web.models import Run, utcnow
from borderflow.web.routing import BODY_RESPONSES, api_router
from borderflow.web.schemas import (
    MAX_ID,
    PLAIN,
    BandRow,
    Comparison,
    CrossingSummary,
    NeedsRow,
    RunAccepted,
    RunIn,
    RunOut,
    SeriesRow,
)

router = api_router("runs")

RunId = Annotated[int, Path(ge=1, le=MAX_ID)]
Filter = Annotated[str | None, Query(max_length=200, pattern=PLAIN)]
Format = Annotated[Literal["json", "csv"], Query(alias="format")]
CSV = {"content": {"text/csv": {"schema": {"type": "string"}}}}
NOT_READY = {
    404: {"description": "No such run (or no such result for it)."},
    409: {"description": "The run is not done."},
}


def run_out(run: Run) -> dict[str, Any]:
    return {
        "id": run.id,
        "kind": run.kind,
        "scenario": run.scenario,
        "variant": run.variant,
        "capacity": run.capacity,
        "seed": run.seed,
        "members": run.members,
        "status": run.status,
        "progress": run.progress,
        "message": run.message,
        "created_by": run.created_by,
        "created_at": run.created_at,
        "finished_at": run.finished_at,
    }


def _invalid(field: str, message: str, value: Any) -> RequestValidationError:
    """A 422 shaped like FastAPI's own validation errors."""
    return RequestValidationError(
        [{"type": "value_error", "loc": ("body", field), "msg": message, "input": value}]
    )


def _validate(body: RunIn) -> None:
    """Everything that can be checked before queueing, so that a bad request is a 422."""
    if body.scenario not in catalogue.names():
        names = ", ".join(catalogue.names())
        raise _invalid("scenario", f"no scenario '{body.scenario}' ({names})", body.scenario)
    if catalogue.kind_of(body.scenario) != "border":
        raise _invalid("scenario", "a Flee scenario: runs need a border case", body.scenario)
    if body.members == 1:
        raise _invalid("members", "0 for one run, or 2 or more for an ensemble", body.members)
    try:
        case = catalogue.border_case(body.scenario, body.variant)
    except ScenarioError as exc:
        raise _invalid("variant", exc.message, body.variant) from None
    crossings = [x.name for x in case.crossings]
    unknown = sorted(set(body.capacity) - set(crossings))
    if unknown:
        message = f"unknown crossing '{unknown[0]}' (crossings: {', '.join(crossings)})"
        raise _invalid("capacity", message, body.capacity)


@router.post("/runs", status_code=202, response_model=RunAccepted, responses=BODY_RESPONSES)
def start_run(body: RunIn, request: Request, user: Analyst) -> dict:
    """Queue a run (``members`` 0) or an ensemble (``members`` ≥ 2); it runs in the background."""
    _validate(body)
    jobs = request.app.state.jobs
    with writing(request.app.state.store.engine) as session:
        run = Run(
            scenario=body.scenario,
            variant=dict(body.variant),
            capacity=dict(body.capacity),
            seed=body.seed,
            members=body.members,
            status="queued",
            progress=0.0,
            message="",
            created_by=user.username,
            created_at=utcnow(),
        )
        session.add(run)
        session.flush()
        run.folder = jobs.folder_name(run.id)
        audit(session, user.username, "run.start", f"run {run.id}", body.model_dump())
    jobs.submit(run.id)
    return {"id": run.id, "status": run.status}


@router.get("/runs", response_model=list[RunOut])
def list_runs(
    request: Request,
    user: Viewer,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[dict]:
    """Runs and ensembles, newest first (forecast updates are listed by /api/forecasts)."""
    with reading(request.app.state.store.engine) as session:
        query = select(Run).where(Run.kind == "run").order_by(Run.id.desc()).limit(limit)
        runs = session.scalars(query).all()
    return [run_out(r) for r in runs]


def _get(request: Request, run_id: int) -> Run:
    with reading(request.app.state.store.engine) as session:
        run = session.get(Run, run_id)
    if run is None:
        raise HTTPException(404, f"no run {run_id}")
    return run


def _done(request: Request, run_id: int) -> Run:
    run = _get(request, run_id)
    if run.kind != "run":
        raise HTTPException(404, f"job {run_id} is a forecast update: see /api/forecasts")
    if run.status != "done":
        raise HTTPException(409, f"run {run_id} is {run.status}, not done")
    return run


def _folder(request: Request, run: Run):
    folder = request.app.state.data_dir / run.folder
    if not folder.is_dir():
        raise HTTPException(404, f"the outputs of run {run.id} are no longer on the server")
    return folder


@router.get("/runs/{run_id}", response_model=RunOut, responses={404: {"description": "No run."}})
def get_run(run_id: RunId, request: Request, user: Viewer) -> dict:
    return run_out(_get(request, run_id))


def _table_response(records: list[dict], fmt: str, tags: dict[str, str]) -> Response:
    if fmt == "csv":
        return Response(results.csv_bytes(records, tags), media_type="text/csv")
    return Response(results.json_bytes(records), media_type="application/json")


@router.get(
    "/runs/{run_id}/series",
    response_model=list[SeriesRow],
    responses={200: CSV, **NOT_READY},
)
def get_series(
    run_id: RunId,
    request: Request,
    user: Viewer,
    indicator: Filter = None,
    location: Filter = None,
    fmt: Format = "json",
) -> Response:
    """Long rows ``date, location, indicator, value`` (an ensemble: its median band, q50)."""
    run = _done(request, run_id)
    table = results.series(_folder(request, run), run.members > 0, indicator, location)
    if fmt == "csv":
        return Response(results.series_csv(table), media_type="text/csv")
    return Response(results.json_bytes(results.rows(table)), media_type="application/json")


@router.get(
    "/runs/{run_id}/bands",
    response_model=list[BandRow],
    responses={200: CSV, **NOT_READY},
)
def get_bands(
    run_id: RunId,
    request: Request,
    user: Viewer,
    indicator: Filter = None,
    location: Filter = None,
    fmt: Format = "json",
) -> Response:
    """An ensemble's 5, 25, 50, 75 and 95 % quantiles and mean over members, per day and place."""
    run = _done(request, run_id)
    if run.members == 0:
        raise HTTPException(404, f"run {run_id} is a single run: no bands")
    table = results.bands(_folder(request, run), indicator, location)
    return _table_response(results.rows(table), fmt, results.BAND_TAGS)


@router.get("/runs/{run_id}/summary", response_model=list[CrossingSummary], responses=NOT_READY)
def get_summary(run_id: RunId, request: Request, user: Viewer) -> list[dict]:
    """Per crossing: peak stranded and its date, person-days, crossings, refusals, needs."""
    return results.summary(_folder(request, _done(request, run_id)))


@router.get(
    "/runs/{run_id}/needs",
    response_model=list[NeedsRow],
    responses={200: CSV, **NOT_READY},
)
def get_needs(run_id: RunId, request: Request, user: Viewer, fmt: Format = "json") -> Response:
    """Per day and place: people in need, children, and each need of the case (Sphere)."""
    run = _done(request, run_id)
    indicators = results.need_indicators(catalogue.border_case(run.scenario, run.variant))
    records = results.needs(_folder(request, run), run.members > 0, indicators)
    return _table_response(records, fmt, results.needs_tags(indicators))


@router.get("/compare", response_model=Comparison, responses=NOT_READY)
def compare(
    request: Request,
    user: Viewer,
    a: Annotated[int, Query(ge=1, le=MAX_ID)],
    b: Annotated[int, Query(ge=1, le=MAX_ID)],
) -> dict:
    """Both runs' summaries and, per crossing, ``b`` minus ``a``."""
    run_a, run_b = _done(request, a), _done(request, b)
    sum_a = results.summary(_folder(request, run_a))
    sum_b = results.summary(_folder(request, run_b))
    return {
        "a": {"run": run_out(run_a), "summary": sum_a},
        "b": {"run": run_out(run_b), "summary": sum_b},
        "differences": results.differences(sum_a, sum_b),
    }
