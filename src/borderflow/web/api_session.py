"""Health, login and "who am I": the endpoints a client calls first."""

from __future__ import annotations

from fastapi import HTTPException, Request

from borderflow.web.auth import AUTH_RESPONSES, SESSION_HOURS, Viewer, authenticate, issue_token
from borderflow.web.db import writing
from borderflow.web.routing import BODY_RESPONSES, api_router
from borderflow.web.schemas import ErrorOut, Health, LoginIn, LoginOut, Me
from borderflow.web.throttle import LoginThrottle

router = api_router("session", protected=False)


@router.get("/health", response_model=Health)
def health() -> dict:
    return {"status": "ok"}


@router.post(
    "/login",
    response_model=LoginOut,
    responses={
        401: {"model": ErrorOut, "description": "Wrong username or password."},
        429: {
            "model": ErrorOut,
            "description": "Too many failed logins for this user or from this address: "
            "wait the seconds of the Retry-After header.",
        },
        **BODY_RESPONSES,
    },
)
def login(body: LoginIn, request: Request) -> dict:
    """A new session token (valid 12 hours). Not audited: it changes no data.

    Usernames are case-insensitive. Failed logins are throttled (:mod:`.throttle`).
    """
    throttle: LoginThrottle = request.app.state.login_throttle
    address = request.client.host if request.client else ""
    wait = throttle.wait(body.username, address)
    if wait:
        raise HTTPException(
            429,
            f"too many failed logins: try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    with writing(request.app.state.store.engine) as session:
        user = authenticate(session, body.username, body.password)
        if user is None:
            throttle.failed(body.username, address)
            raise HTTPException(401, "wrong username or password")
        throttle.succeeded(body.username, address)
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
