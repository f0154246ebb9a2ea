"""Stored observations: read them, and add them with exactly the CLI's rules.

An upload goes through the observation store as ``borderflow obs import`` does: a CSV body (or
file) is read by the same HXL reader, a JSON list is validated row by row with the same model,
any bad row rejects the whole upload (every bad row listed, nothing stored), rows already
stored with the same value are skipped, so uploading twice adds nothing, and a row that gives a
stored observation another value corrects it (the old value is kept: ``?history=true``).
"""

from __future__ import annotations

import datetime as dt
import email.message
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from fastapi import HTTPException, Query, Request, Response
from pydantic import ValidationError
from sqlalchemy import Connection
from starlette.datastructures import UploadFile

from borderflow.errors import ScenarioError
from borderflow.observe.hxlcsv import EXPORT_TAGS, HISTORY_TAGS
from borderflow.observe.store import (
    ROWS,
    ImportRejectedError,
    ImportReport,
    IsoDate,
    ObservationIn,
    RowError,
    Store,
    duplicates,
    paused_gc,
    row_errors,
)
from borderflow.web.auth import DataEntry, Principal, Viewer
from borderflow.web.db import audit
from borderflow.web.results import json_bytes
from borderflow.web.routing import BODY_RESPONSES, api_router
from borderflow.web.schemas import (
    PLAIN,
    ErrorOut,
    ImportResult,
    ObservationOut,
    RowProblem,
)
from borderflow.web.strict import BadJSONError, parse_json

router = api_router("observations")
T = TypeVar("T")

Filter = Annotated[str | None, Query(max_length=300, pattern=PLAIN)]
COLUMNS = ["id", *EXPORT_TAGS, *HISTORY_TAGS]

UPLOAD_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {"type": "array", "minItems": 1, "items": ObservationIn.model_json_schema()}
        },
        "text/csv": {
            "schema": {"type": "string", "description": "HXL-tagged CSV, as `obs import`."}
        },
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
    },
}
REJECTED = {
    "description": "Bad rows: nothing was stored.",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "detail": {
                        "type": "object",
                        "properties": {
                            "errors": {
                                "type": "array",
                                "items": RowProblem.model_json_schema(),
                            }
                        },
                    }
                },
            }
        }
    },
}


class Rejected(HTTPException):
    """422 listing every bad row: ``{"detail": {"errors": [{row, field, reason}]}}``."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(
            422, {"errors": [{"row": e.row, "field": e.field, "reason": e.reason} for e in errors]}
        )

    @classmethod
    def whole(cls, field: str, reason: str) -> Rejected:
        """The upload as a whole is unreadable (no row to name)."""
        return cls([RowError(None, field, reason)])  # type: ignore[arg-type]


def _record(r: dict[str, Any]) -> dict[str, Any]:
    return {c: v.isoformat() if isinstance(v, dt.date) else v for c, v in r.items()}


def _current(r: Any) -> dict[str, Any]:
    """A stored observation as a history record of its current version."""
    out = {c: getattr(r, c) for c in COLUMNS if c not in HISTORY_TAGS}
    out |= {"current": True, "recorded_at": r.recorded_at, "recorded_by": r.recorded_by,
            "replaced_at": None, "replaced_by": None}  # fmt: skip
    return out


@router.get(
    "/observations",
    response_model=list[ObservationOut],
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def list_observations(
    request: Request,
    user: Viewer,
    place: Filter = None,
    indicator: Filter = None,
    since: IsoDate | None = None,
    until: IsoDate | None = None,
    fmt: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
    history: Annotated[
        bool, Query(description="Also every value a correction replaced, oldest first.")
    ] = False,
) -> Response:
    """Stored observations, filtered; CSV is what ``borderflow obs export`` writes.

    Text cells starting with ``=``, ``+``, ``-`` or ``@`` are written to CSV with a leading
    apostrophe, so that no spreadsheet runs them as formulas (the stored value is unchanged).
    """
    store: Store = request.app.state.store
    filters = {"place": place, "indicator": indicator, "since": since, "until": until}
    rows = store.history(**filters) if history else [_current(r) for r in store.query(**filters)]
    if fmt == "csv":
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "observations.csv"
            store.export_csv(rows, path, history=history)
            return Response(path.read_bytes(), media_type="text/csv")
    return Response(json_bytes([_record(r) for r in rows]), media_type="application/json")


def _from_json(body: bytes) -> tuple[list[ObservationIn], list[int]]:
    """The rows of a JSON list; row n is the n-th item (1-based)."""
    try:
        data = parse_json(body)
    except BadJSONError as exc:
        raise Rejected.whole("(body)", str(exc)) from None
    if not isinstance(data, list) or not data:
        raise Rejected.whole("(body)", "expected a non-empty list of observations")
    lines = list(range(1, len(data) + 1))
    try:
        # Strict JSON: a date is a "YYYY-MM-DD" string and a number a number (lax
        # validation would read 0 as 1970-01-01 and "12" as 12.0).
        with paused_gc():
            rows = ROWS.validate_json(body, strict=True)
    except ValidationError as exc:
        whole = [e for e in exc.errors() if not e["loc"]]  # e.g. nesting pydantic refuses
        if whole:
            raise Rejected.whole("(body)", whole[0]["msg"]) from None
        raise Rejected(row_errors(exc, lines)) from None
    bad = duplicates(rows, lines)
    if bad:
        raise Rejected(bad)
    return rows, lines


def _from_csv(store: Store, body: bytes) -> tuple[list[ObservationIn], list[int]]:
    """The rows of an HXL CSV and their lines in the file."""
    if b"\x00" in body:
        raise Rejected.whole("(file)", "contains NUL bytes: not a CSV file")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Rejected.whole("(file)", "not UTF-8 text") from None
    try:
        return store.read_upload(text, "(upload)")
    except ImportRejectedError as exc:
        raise Rejected(exc.errors) from None
    except ScenarioError as exc:
        raise Rejected.whole("(file)", exc.message) from None


def _no_nul(rows: Sequence[ObservationIn], lines: Sequence[int]) -> None:
    """PostgreSQL cannot store NUL characters: refuse them as the bad input they are."""
    errors = [
        RowError(line, name, "contains a NUL character")
        for line, row in zip(lines, rows, strict=True)
        for name, value in row
        if isinstance(value, str) and "\x00" in value
    ]
    if errors:
        raise Rejected(errors)


def _check_publisher(
    user: Principal, rows: Sequence[ObservationIn], lines: Sequence[int], csv: bool
) -> None:
    """A data-entry user adds only observations published by their own organisation."""
    if user.role != "data-entry":
        return
    wrong = [(line, r.source_publisher) for line, r in zip(lines, rows, strict=True)
             if r.source_publisher != user.organisation]  # fmt: skip
    if not wrong:
        return
    reason = (
        "data-entry users may only add observations of their own organisation, "
        f"{user.organisation!r}"
    )
    if csv:
        raise Rejected([RowError(n, "source_publisher", f"{pub!r}: {reason}") for n, pub in wrong])
    raise HTTPException(403, f"row {wrong[0][0]} names {wrong[0][1]!r}: {reason}")


async def _upload(request: Request) -> tuple[str, bytes]:
    """The body's kind (json or csv) and bytes; 415 for any other media type."""
    message = email.message.Message()
    message["content-type"] = request.headers.get("content-type", "")
    kind = message.get_content_type()
    if kind == "application/json" or kind.endswith("+json"):
        return "json", await request.body()
    if kind in ("text/csv", "application/csv", "text/plain"):
        return "csv", await request.body()
    if kind == "multipart/form-data":
        try:
            form = await request.form(max_files=1, max_fields=10)
        except HTTPException:
            raise
        except Exception:
            raise Rejected.whole("(body)", "not a multipart form") from None
        upload = form.get("file")
        if isinstance(upload, UploadFile):
            return "csv", await upload.read()
        if isinstance(upload, str):
            return "csv", upload.encode()
        raise Rejected.whole("file", "the form needs a 'file' part (the CSV)")
    raise HTTPException(415, "send a JSON list, a text/csv body or a multipart form with 'file'")


@router.post(
    "/observations",
    response_model=ImportResult,
    response_model_exclude_none=True,
    openapi_extra={"requestBody": UPLOAD_BODY},
    responses={
        403: {
            "model": ErrorOut,
            "description": "Not allowed (the role, or another organisation's rows in JSON).",
        },
        413: BODY_RESPONSES[413],
        415: {"model": ErrorOut, "description": "Neither JSON, CSV nor a multipart form."},
        422: REJECTED,
    },
)
async def add_observations(request: Request, user: DataEntry) -> dict:
    """Add observations: all rows or none; rows already stored are counted, not added again.

    A row that gives a stored observation (same date, place, indicator, breakdown and source)
    another value corrects it: the new value becomes current, the old one is kept with who
    recorded it and when (``GET /api/observations?history=true``), and the audit row lists
    both. Row numbers are file lines for CSV (as ``borderflow obs import``) and 1-based item
    numbers for a JSON list.
    """
    store: Store = request.app.state.store
    kind, body = await _upload(request)
    if kind == "json":
        rows, lines = await _in_thread(_from_json, body)
        if b"\\u0000" in body:  # the only way JSON text can hold a NUL (a CSV cannot at all)
            _no_nul(rows, lines)
    else:
        rows, lines = await _in_thread(_from_csv, store, body)
    _check_publisher(user, rows, lines, csv=kind == "csv")
    report = await _in_thread(store.insert, rows, by=user.username, also=_audit_insert(user, kind))
    forecasts: list[int] | None = None
    if report.added or report.revised:
        from borderflow.web.api_forecasts import after_upload

        forecasts = await _in_thread(after_upload, request, rows, user.username) or None
    return {"added": report.added, "revised": report.revised,
            "already_stored": report.already_stored, "forecast_jobs": forecasts}  # fmt: skip


def _audit_insert(user: Principal, kind: str) -> Callable[[Connection, ImportReport], None]:
    """The upload's audit row, written in the store's transaction: with the rows or not at all."""

    def write(conn: Connection, report: ImportReport) -> None:
        detail = {**report.audit_detail(), "format": kind}
        audit(conn, user.username, "observations.add", "observations", detail)

    return write


async def _in_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Blocking work (files, database) off the event loop."""
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(fn, *args, **kwargs)
