"""Tables of the web app: users, their tokens, runs started through the API, the audit log.

They share the observation store's declarative base, so one database and one migration chain
hold everything. Table names avoid ``user``, a reserved word in PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, ColumnElement, Float, ForeignKey, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from borderflow.observe.models import Base, UTCDateTime, utcnow

__all__ = [
    "ROLES", "RUN_KINDS", "RUN_STATUSES", "AuditLog", "Run", "Setting", "Token", "UTCDateTime",
    "User", "utcnow",
]  # fmt: skip

ROLES = ("viewer", "analyst", "data-entry", "admin")
RUN_STATUSES = ("queued", "running", "done", "failed")
RUN_KINDS = ("run", "forecast")  # a run or ensemble; the next step of a forecast cycle


class User(Base):
    """An account.

    Usernames are case-insensitive: ``Ana`` and ``ana`` are one account, kept as first
    written (a unique index on ``lower(username)``, migration 0003).
    """

    __tablename__ = "web_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(200), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    organisation: Mapped[str] = mapped_column(String(300), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    tokens: Mapped[list[Token]] = relationship(back_populates="user")

    @staticmethod
    def named(username: str) -> ColumnElement[bool]:
        """The condition selecting the account called ``username``, in any case."""
        return func.lower(User.username) == username.lower()


Index("uq_web_user_username_lower", func.lower(User.username), unique=True)


class Token(Base):
    """An API token; only its SHA-256 is stored, so a stolen database reveals no token."""

    __tablename__ = "web_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("web_user.id", ondelete="CASCADE"), nullable=False, index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    label: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    user: Mapped[User] = relationship(back_populates="tokens")


class Run(Base):
    """A job requested through the API: a run or ensemble, or a step of the forecast cycle.

    A run or ensemble (``kind`` ``run``) writes its outputs in ``data_dir/folder``; a forecast
    update (``forecast``) writes in the scenario's forecast store, ``folder``.
    """

    __tablename__ = "web_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scenario: Mapped[str] = mapped_column(String(200), nullable=False)
    variant: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    capacity: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    seed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    members: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    status: Mapped[str] = mapped_column(String(8), nullable=False, default="queued", index=True)
    progress: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    message: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    folder: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    kind: Mapped[str] = mapped_column(
        String(16), nullable=False, default="run", server_default="run"
    )


class Setting(Base):
    """A setting of the web app an admin changes (one JSON value per key)."""

    __tablename__ = "web_setting"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[object] = mapped_column(JSON, nullable=False)
    updated_by: Mapped[str] = mapped_column(String(64), nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class AuditLog(Base):
    """One row per accepted write: who, when (UTC), what, on what, and the counts."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    username: Mapped[str] = mapped_column(String(64), nullable=False)
    action: Mapped[str] = mapped_column(String(40), nullable=False)
    target: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    detail: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
