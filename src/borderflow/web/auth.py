"""Passwords, tokens and the FastAPI dependencies that check them.

Passwords are hashed with scrypt and a random salt. Tokens are 32 random bytes (URL-safe
text); only their SHA-256 is stored, so they are shown once, when created. A request is
refused with 401 when its token is missing, unknown, revoked or expired, and with 403 when the
token's user lacks the role; the check runs before the endpoint, so a refused request changes
nothing.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from borderflow.web.db import reading
from borderflow.web.models import ROLES, Token, User, utcnow
from borderflow.web.schemas import ErrorOut

# scrypt cost: 16 MiB and ~50 ms per hash, the interactive-login setting of RFC 7914.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SESSION_HOURS = 12

# Every role includes the viewer's rights; admin includes everything.
_ALLOWED = {
    "viewer": frozenset(ROLES),
    "analyst": frozenset({"analyst", "admin"}),
    "data-entry": frozenset({"data-entry", "admin"}),
    "admin": frozenset({"admin"}),
}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        expected = base64.urlsafe_b64decode(key)
        got = hashlib.scrypt(
            password.encode(),
            salt=base64.urlsafe_b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except ValueError:
        return False
    return scheme == "scrypt" and hmac.compare_digest(got, expected)


# A hash to check against when the user does not exist, so that a login takes as long for an
# unknown user as for a wrong password.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.named(username)))
    ok = verify_password(password, user.password_hash if user else _DUMMY_HASH)
    return user if user is not None and ok else None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    session: Session, user: User, label: str = "", hours: float | None = None
) -> tuple[Token, str]:
    """A new token for ``user`` (added to ``session``); returns the row and the secret."""
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    row = Token(
        user_id=user.id,
        token_hash=token_digest(secret),
        label=label,
        created_at=now,
        expires_at=now + dt.timedelta(hours=hours) if hours else None,
        revoked=False,
    )
    session.add(row)
    session.flush()
    return row, secret


@dataclass(frozen=True)
class Principal:
    """The user behind a request's token."""

    username: str
    role: str
    organisation: str
    token_id: int


_bearer = HTTPBearer(auto_error=False, description="A token from POST /api/login or an admin.")


def _unauthorised(reason: str) -> HTTPException:
    return HTTPException(401, reason, headers={"WWW-Authenticate": "Bearer"})


def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or not credentials.credentials:
        raise _unauthorised("missing token (Authorization: Bearer <token>)")
    engine = request.app.state.store.engine
    with reading(engine) as session:
        row = session.execute(
            select(Token, User)
            .join(User, Token.user_id == User.id)
            .where(Token.token_hash == token_digest(credentials.credentials))
        ).first()
    if row is None:
        raise _unauthorised("unknown token")
    token, user = row
    if token.revoked:
        raise _unauthorised("revoked token")
    if token.expires_at is not None and token.expires_at <= utcnow():
        raise _unauthorised("expired token")
    return Principal(user.username, user.role, user.organisation, token.id)


def require(*roles: str) -> Callable[..., Principal]:
    """A dependency: the request's user, if one of ``roles`` (or a role including it)."""
    unknown = set(roles) - set(_ALLOWED)
    if unknown:
        raise ValueError(f"unknown role(s) {sorted(unknown)}")
    allowed = frozenset().union(*(_ALLOWED[r] for r in roles)) if roles else frozenset(ROLES)

    def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if principal.role not in allowed:
            raise HTTPException(403, f"the role '{principal.role}' may not do this")
        return principal

    return dependency


# OpenAPI: what every endpoint behind a token may answer besides its own statuses.
AUTH_RESPONSES: dict[int | str, dict] = {
    401: {"model": ErrorOut, "description": "Missing, unknown, revoked or expired token."},
    403: {"model": ErrorOut, "description": "The token's user lacks the role."},
}

# Endpoint parameter types: ``user: Viewer`` lets every role in, ``user: Admin`` only admins.
Viewer = Annotated[Principal, Depends(require("viewer"))]
Analyst = Annotated[Principal, Depends(require("analyst"))]
DataEntry = Annotated[Principal, Depends(require("data-entry"))]
Admin = Annotated[Principal, Depends(require("admin"))]
