"""Forecast updates as background jobs, and the web app's settings.

``web_run`` gains ``kind``: ``run`` (a run or an ensemble, as before) or ``forecast`` (the next
step of a scenario's forecast cycle, see :mod:`borderflow.web.forecasting`). ``web_setting``
holds settings an admin changes from the dashboard (whether an upload updates the forecasts),
one JSON value per key with who set it and when.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("web_run") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="run"))
    op.create_table(
        "web_setting",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.JSON, nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("web_setting")
    with op.batch_alter_table("web_run") as batch:
        batch.drop_column("kind")
