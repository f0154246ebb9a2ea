"""Users, their tokens and the audit log: the admin's endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import HTTPException, Path, Query, Request
from sqlalchemy import select

from borderflow.web import accounts
from borderflow.web.auth import Admin
from borderflow.web.db import audit, reading, writing
from borderflow.web.models import AuditLog, Token
from borderflow.web.routing import BODY_RESPONSES, api_router
from borderflow.web.schemas import (
    MAX_ID,
    USERNAME,
    AuditRow,
    ErrorOut,
    Revoked,
    TokenIn,
    TokenOut,
    UserIn,
    UserOut,
)

router = api_router("users")


@router.get("/users", response_model=list[UserOut])
def list_users(request: Request, admin: Admin) -> list[dict]:
    return accounts.list_users(request.app.state.store.engine)


@router.post(
    "/users",
    status_code=201,
    response_model=UserOut,
    responses={409: {"model": ErrorOut, "description": "The username is taken."}, **BODY_RESPONSES},
)
def add_user(body: UserIn, request: Request, admin: Admin) -> dict:
    try:
        return accounts.add_user(request.app.state.store.engine, body, by=admin.username)
    except accounts.UserExistsError as exc:
        raise HTTPException(409, exc.message) from None


@router.post(
    "/users/{username}/tokens",
    status_code=201,
    response_model=TokenOut,
    responses={404: {"model": ErrorOut, "description": "No such user."}, **BODY_RESPONSES},
)
def add_token(
    username: Annotated[str, Path(max_length=64, pattern=USERNAME)],
    request: Request,
    admin: Admin,
    body: TokenIn | None = None,
) -> dict:
    """A new token for the user, shown this once (only its hash is kept)."""
    label = body.label if body else ""
    try:
        token_id, secret = accounts.add_token(
            request.app.state.store.engine, username, label, by=admin.username
        )
    except accounts.NoSuchUserError as exc:
        raise HTTPException(404, exc.message) from None
    return {"id": token_id, "token": secret}


@router.delete(
    "/tokens/{token_id}", response_model=Revoked, responses={404: {"description": "No token."}}
)
def revoke_token(
    token_id: Annotated[int, Path(ge=1, le=MAX_ID)], request: Request, admin: Admin
) -> dict:
    """Revoke a token: every request with it is refused (401) from now on."""
    with writing(request.app.state.store.engine) as session:
        token = session.get(Token, token_id)
        if token is None:
            raise HTTPException(404, f"no token {token_id}")
        was = token.revoked
        token.revoked = True
        audit(session, admin.username, "token.revoke", str(token_id), {"already_revoked": was})
        return {"id": token_id, "revoked": True}


@router.get("/audit", response_model=list[AuditRow])
def list_audit(
    request: Request, admin: Admin, limit: Annotated[int, Query(ge=1, le=10_000)] = 100
) -> list[dict]:
    """The latest accepted writes, newest first."""
    with reading(request.app.state.store.engine) as session:
        rows = session.scalars(select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)).all()
    fields = ("id", "at", "username", "action", "target", "detail")
    return [{f: getattr(r, f) for f in fields} for r in rows]
