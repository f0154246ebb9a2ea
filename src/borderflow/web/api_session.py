"""Health, login and "who am I": the endpoints a client calls first."""

from __future__ import annotations

from fastapi import HTTPException, Request

from borderflow.web.auth import AUTH_RESPONSES, SESSION_HOURS, Viewer, authenticate, issue_token
from borderflow.web.db import writing
from borderflow.web.routing import BODY_RESPONSES, api_router
from borderflow.web.schemas import ErrorOut, Health, LoginIn, LoginOut, Me

router = api_router("session", protected=False)


@router.get("/health", response_model=Health)
def health() -> dict:
    return {"status": "ok"}


@router.post(
    "/login",
    response_model=LoginOut,
    responses={
        401: {"model": ErrorOut, "description": "Wrong username or password."},
        **BODY_RESPONSES,
    },
)
def login(body: LoginIn, request: Request) -> dict:
    """A new session token (valid 12 hours). Not audited: it changes no data."""
    with writing(request.app.state.store.engine) as session:
        user = authenticate(session, body.username, body.password)
        if user is None:
            raise HTTPException(401, "wrong username or password")
        _row, token = issue_token(session, user, "session", hours=SESSION_HOURS)
        return {
            "token": token,
            "username": user.username,
            "role": user.role,
            "organisation": user.organisation,
        }


@router.get("/me", response_model=Me, responses=AUTH_RESPONSES)
def me(user: Viewer) -> dict:
    return {"username": user.username, "role": user.role, "organisation": user.organisation}
