"""Alembic environment: migrations run on the connection borderflow hands over."""

from __future__ import annotations

from alembic import context

from borderflow.observe.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata)
with context.begin_transaction():
    context.run_migrations()
