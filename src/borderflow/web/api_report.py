"""The dashboard's languages and the situation report of a finished run or ensemble.

Each report made here leaves its headline (``report.json``) in its run's folder, so that the
next run's report can say what changed since the last report of the same case.
"""

from __future__ import annotations

import logging
from pathlib import Path as FilePath
from typing import Annotated, Literal

from fastapi import HTTPException, Path, Query, Request, Response
from sqlalchemy import select

from borderflow.errors import ScenarioError
from borderflow.i18n import LANGUAGES, js_catalog
from borderflow.web.api_runs import NOT_READY, RunId, _done, _folder
from borderflow.web.auth import Viewer
from borderflow.web.db import reading
from borderflow.web.models import Run
from borderflow.web.routing import api_router

log = logging.getLogger(__name__)

router = api_router("report")
languages = api_router("languages", protected=False)  # the login page needs them too

Lang = Literal["en", "es"]
assert set(LANGUAGES) == {"en", "es"}  # the Literal above lists them for the schema
MEDIA = {
    "application/pdf": {"schema": {"type": "string", "format": "binary"}},
    "text/html": {"schema": {"type": "string"}},
}


@languages.get(
    "/i18n/{lang}",
    responses={200: {"description": "The language's messages and number conventions."}},
)
def get_catalog(lang: Annotated[Lang, Path()]) -> dict:
    """English message → Spanish, for the dashboard (English needs none: the ids are English)."""
    return js_catalog(lang)


@router.get(
    "/runs/{run_id}/report",
    response_class=Response,
    responses={200: {"content": MEDIA, "description": "The situation report."}, **NOT_READY},
)
def get_report(
    run_id: RunId,
    request: Request,
    user: Viewer,
    lang: Annotated[Lang, Query()] = "en",
    fmt: Annotated[Literal["pdf", "html"], Query(alias="format")] = "pdf",
) -> Response:
    """The one- or two-page situation report of a finished run, in English or Spanish.

    "What changed" compares with the last report made of an earlier run of the same case.
    """
    from borderflow.report.situation import build_report

    run = _done(request, run_id)
    folder = _folder(request, run)
    previous = previous_report(request, run)
    try:
        made = build_report(folder, lang, fmt, previous=previous or folder / "no-previous-report")
    except ScenarioError as exc:
        raise HTTPException(404, f"no report for run {run_id}: {exc}") from None
    _record(folder, made, lang)
    disposition = f'attachment; filename="run-{run_id}-{made.filename}"'
    return Response(made.content, media_type=made.media_type,
                    headers={"Content-Disposition": disposition})  # fmt: skip


def previous_report(request: Request, run: Run) -> FilePath | None:
    """The report.json of the latest earlier finished run of the same case that has one.

    Earlier by run number (the order runs were asked for), so downloading an old run's report
    again never compares it with a newer run's.
    """
    from borderflow.report.situation import REPORT_JSON

    with reading(request.app.state.store.engine) as db:
        folders = db.scalars(
            select(Run.folder)
            .where(Run.scenario == run.scenario, Run.status == "done", Run.id < run.id)
            .order_by(Run.id.desc())
        ).all()
    for name in folders:
        path = request.app.state.data_dir / name / REPORT_JSON
        if name and path.is_file():
            return path
    return None


def _record(folder: FilePath, made, lang: str) -> None:
    """Leave the report's headline in the run's folder, for the next report of the case."""
    from borderflow.report.situation import REPORT_JSON, headline_record
    from borderflow.results.atomic import atomic_outputs

    try:
        with atomic_outputs(folder) as out:
            out.write(REPORT_JSON, lambda p: p.write_text(headline_record(made, lang)))
    except OSError as exc:  # the report is still served; the next one says less
        log.warning("could not record the report of %s: %s", folder, exc)


router.include_router(languages)
