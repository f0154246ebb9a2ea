"""Database sessions for the web app, and the audit trail written inside them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, insert
from sqlalchemy.orm import Session

from borderflow.web.models import AuditLog, utcnow


@contextmanager
def writing(engine: Engine) -> Iterator[Session]:
    """A session in one write transaction, committed on success.

    On SQLite the write lock is taken up front (as the observation store does): a deferred
    transaction that reads first and then writes fails at once under concurrency instead of
    waiting its turn.
    """
    with Session(engine, expire_on_commit=False) as session, session.begin():
        if engine.dialect.name == "sqlite":
            session.connection().exec_driver_sql("BEGIN IMMEDIATE")
        yield session


def reading(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)


def audit(
    db: Session | Connection,
    username: str,
    action: str,
    target: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Record an accepted write; call it inside the write's own transaction.

    A Connection is the observation store's own transaction (``Store.insert(also=...)``), so
    an upload's audit row commits with its rows or not at all.
    """
    row = {"at": utcnow(), "username": username, "action": action, "target": target,
           "detail": detail or {}}  # fmt: skip
    if isinstance(db, Connection):
        db.execute(insert(AuditLog).values(**row))
    else:
        db.add(AuditLog(**row))
