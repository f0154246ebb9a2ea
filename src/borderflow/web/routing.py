"""API routes that refuse what they do not understand.

An unknown query parameter is a 422 rather than silently ignored (a misspelt filter would
otherwise return everything), a body that is not strict JSON is a 422 (:mod:`.strict`), and a
405 lists every method the path supports.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.routing import Route

from borderflow.web.auth import AUTH_RESPONSES
from borderflow.web.schemas import ErrorOut
from borderflow.web.strict import CREDENTIALS, StrictJSONRequest

# OpenAPI: what an endpoint with a request body may also answer.
BODY_RESPONSES: dict[int | str, dict] = {
    400: {"model": ErrorOut, "description": "The body could not be read (e.g. not UTF-8)."},
    413: {"model": ErrorOut, "description": "The body is over the size limit."},
}


def _query_names(dependant: Dependant) -> set[str]:
    names = {f.alias for f in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _unknown(name: str, request: Request) -> dict[str, Any]:
    if name.lower() in CREDENTIALS:  # never echoed: URLs end up in logs and histories
        return {
            "type": "extra_forbidden",
            "loc": ("query", name),
            "msg": "credentials are never read from the URL: send the token in the header "
            "'Authorization: Bearer <token>'",
        }
    return {
        "type": "extra_forbidden",
        "loc": ("query", name),
        "msg": "unknown query parameter",
        "input": request.query_params[name],
    }


class StrictQueryRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        allowed = _query_names(self.dependant)

        async def strict(request: Request) -> Response:
            unknown = sorted(set(request.query_params) - allowed)
            if unknown:
                raise RequestValidationError([_unknown(name, request) for name in unknown])
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict


def api_router(tag: str, *, protected: bool = True) -> APIRouter:
    """A router of the API; ``protected``: every endpoint needs a token (401/403 documented)."""
    return APIRouter(
        tags=[tag], route_class=StrictQueryRoute, responses=AUTH_RESPONSES if protected else {}
    )


def allowed_methods(routes: list, path: str) -> list[str]:
    """Every method some route serves at ``path`` (for a 405's Allow header)."""
    methods: set[str] = set()
    for route in routes:
        if isinstance(route, Route) and route.methods and route.path_regex.match(path):
            methods |= route.methods
    return sorted(methods)
