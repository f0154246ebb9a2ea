"""The dashboard's languages and the situation report of a finished run or ensemble."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import HTTPException, Path, Query, Request, Response

from borderflow.errors import ScenarioError
from borderflow.i18n import LANGUAGES, js_catalog
from borderflow.web.api_runs import NOT_READY, RunId, _done, _folder
from borderflow.web.auth import Viewer
from borderflow.web.routing import api_router

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
    """The one- or two-page situation report of a finished run, in English or Spanish."""
    from borderflow.report.situation import build_report

    folder = _folder(request, _done(request, run_id))
    try:
        made = build_report(folder, lang, fmt, previous=folder / "no-previous-report")
    except ScenarioError as exc:
        raise HTTPException(404, f"no report for run {run_id}: {exc}") from None
    disposition = f'attachment; filename="run-{run_id}-{made.filename}"'
    return Response(made.content, media_type=made.media_type,
                    headers={"Content-Disposition": disposition})  # fmt: skip


router.include_router(languages)
