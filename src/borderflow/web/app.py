"""The web application: the API under ``/api`` and the dashboard's static files at ``/``.

Errors are JSON ``{"detail": ...}``: 401/403 from the token check, 404/409 for what is missing
or not ready, 413 for a body over the limit, 422 for bad input (including a bad scenario
variant); anything unexpected is logged with its traceback here and answered with
``{"detail": "internal error"}`` and status 500, so no stack trace ever reaches a client.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from borderflow.errors import ScenarioError
from borderflow.observe.store import Store
from borderflow.web import (
    api_forecasts,
    api_observations,
    api_report,
    api_runs,
    api_scenarios,
    api_session,
    api_users,
)
from borderflow.web.jobs import THREADS, Jobs
from borderflow.web.routing import allowed_methods
from borderflow.web.strict import safe_errors
from borderflow.web.throttle import LoginThrottle

log = logging.getLogger("borderflow.web")

MAX_BODY = 2 * 1024 * 1024
STATIC = Path(__file__).parent / "static"


VENDOR = "/static/vendor"
# Swagger UI's files the docs page loads, and their media types.
SWAGGER_FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon.png": "image/png",
}


def plotly_js() -> Path:
    """plotly.min.js as the pinned ``plotly`` package ships it (the dashboard uses no CDN)."""
    return Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))


def swagger_ui_dir() -> Path:
    """Swagger UI 5 as the pinned ``fastapi-offline`` package ships it.

    FastAPI's own docs page loads Swagger UI from a CDN, so it is blank on an offline network.
    (``swagger-ui-bundle`` ships Swagger UI 4, which cannot show FastAPI's OpenAPI 3.1 schema.)
    """
    return Path(str(resources.files("fastapi_offline") / "static"))


class BodyLimit:
    """413 for a request body over ``max_body`` bytes, as JSON, before any work is done.

    A declared Content-Length over the limit is refused before the app sees the request; a
    body without one is counted as it arrives and refused as soon as it passes the limit (the
    app only acts once it has read the whole body, so a refused request changes nothing).
    Starlette's own limiter answers in plain text, whatever the endpoint would have said.
    """

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app, self.max_body = app, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = HTTPException(413, f"request body over {self.max_body} bytes")
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            await JSONResponse({"detail": too_large.detail}, 413)(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_body:
                raise too_large  # FastAPI answers an HTTPException raised here as JSON
            return message

        await self.app(scope, counted, send)


class Dashboard(Mount):
    """The static files at ``/``, never answering for ``/api``.

    An unknown API path is then a JSON 404, and a wrong method on an API path a 405 naming
    the allowed ones, instead of whatever the file server would say.
    """

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = scope.get("path", "")
        if path == "/api" or path.startswith("/api/"):
            return Match.NONE, {}
        return super().matches(scope)


def create_app(
    db_url: str | None,
    data_dir: Path,
    workers: int | None = None,
    max_body: int = MAX_BODY,
    job_threads: int | None = None,
) -> FastAPI:
    """The app on the store at ``db_url`` (default as ``borderflow obs``), runs under ``data_dir``.

    ``workers`` is the size of an ensemble's process pool (default: all cores); ``job_threads``
    how many runs execute at once.
    """
    store = Store(db_url)  # creates and migrates the database (users, runs, audit: 0002)
    data_dir.mkdir(parents=True, exist_ok=True)
    jobs = Jobs(store.engine, data_dir, workers, threads=job_threads or THREADS, db_url=store.url)
    interrupted = jobs.recover()
    if interrupted:
        log.warning("%d run(s) left unfinished by a previous server marked failed", interrupted)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        jobs.start()
        yield
        jobs.shutdown()

    app = FastAPI(
        title="borderflow",
        summary="Forecasts of migrant flows at border crossings, and the observations behind them.",
        version="0.1.0",
        openapi_url="/api/openapi.json",
        docs_url=None,  # served below from local files, not a CDN
        redoc_url=None,
        lifespan=lifespan,
    )
    app.add_middleware(BodyLimit, max_body=max_body)
    app.state.store, app.state.jobs, app.state.data_dir = store, jobs, data_dir
    app.state.login_throttle = LoginThrottle()

    api = APIRouter(prefix="/api")
    modules = (api_session, api_scenarios, api_runs, api_forecasts, api_report, api_observations,
               api_users)  # fmt: skip
    for module in modules:
        api.include_router(module.router)
    app.include_router(api)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:  # name every method of the path, not just one route's
            allow = ", ".join(allowed_methods(app.router.routes, request.url.path))
            exc = StarletteHTTPException(405, exc.detail, headers={"Allow": allow})
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": safe_errors(exc.errors())}, status_code=422)

    @app.exception_handler(ScenarioError)
    async def bad_scenario_input(_request: Request, exc: ScenarioError) -> JSONResponse:
        return JSONResponse({"detail": exc.describe()}, status_code=422)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return JSONResponse({"detail": "internal error"}, status_code=500)

    @app.get(VENDOR + "/plotly.min.js", include_in_schema=False)
    def plotly() -> FileResponse:
        return FileResponse(
            plotly_js(),
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    @app.get("/api/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{VENDOR}/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{VENDOR}/swagger-ui/swagger-ui.css",
            swagger_favicon_url=f"{root}{VENDOR}/swagger-ui/favicon.png",
            # no validator badge: it is an image fetched from validator.swagger.io
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get(VENDOR + "/swagger-ui/{name}", include_in_schema=False)
    def swagger_ui(name: str) -> FileResponse:
        if name not in SWAGGER_FILES:
            raise HTTPException(404, "Not Found")
        return FileResponse(
            swagger_ui_dir() / name,
            media_type=SWAGGER_FILES[name],
            headers={"Cache-Control": "public, max-age=86400"},
        )

    app.router.routes.append(Dashboard("/", StaticFiles(directory=STATIC, html=True)))
    return app
