"""Creating users and tokens: shared by the API (admin) and ``borderflow users``.

Both write through here so that both validate the same way and both leave an audit row, in
the same transaction as the change.
"""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from borderflow.errors import ScenarioError
from borderflow.web.auth import hash_password, issue_token
from borderflow.web.db import audit, reading, writing
from borderflow.web.models import User, utcnow
from borderflow.web.schemas import UserIn


class UserExistsError(ScenarioError):
    pass


class NoSuchUserError(ScenarioError):
    pass


def user_out(user: User) -> dict:
    return {
        "username": user.username,
        "role": user.role,
        "organisation": user.organisation,
        "created_at": user.created_at,
    }


def add_user(engine: Engine, new: UserIn, by: str) -> dict:
    """Create a user; UserExistsError if the name is taken."""
    try:
        with writing(engine) as session:
            if session.scalar(select(User.id).where(User.named(new.username))) is not None:
                raise UserExistsError(f"user '{new.username}' exists")
            user = User(
                username=new.username,
                password_hash=hash_password(new.password),
                role=new.role,
                organisation=new.organisation,
                created_at=utcnow(),
            )
            session.add(user)
            audit(session, by, "user.add", new.username,
                  {"role": new.role, "organisation": new.organisation})  # fmt: skip
            session.flush()
            return user_out(user)
    except IntegrityError:  # created at the same moment by someone else
        raise UserExistsError(f"user '{new.username}' exists") from None


def add_token(engine: Engine, username: str, label: str, by: str) -> tuple[int, str]:
    """A new token (no expiry) for ``username``: its id and the secret, shown once."""
    with writing(engine) as session:
        user = session.scalar(select(User).where(User.named(username)))
        if user is None:
            raise NoSuchUserError(f"no user '{username}'")
        row, secret = issue_token(session, user, label)
        audit(session, by, "token.add", username, {"id": row.id, "label": label})
        return row.id, secret


def list_users(engine: Engine) -> list[dict]:
    with reading(engine) as session:
        return [user_out(u) for u in session.scalars(select(User).order_by(User.username))]
