"""The observation table.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "observation",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=False),
        sa.Column("stat", sa.String(8), nullable=False),
        sa.Column("place_name", sa.String(200), nullable=False),
        sa.Column("place_code", sa.String(40), nullable=False, server_default=""),
        sa.Column("indicator", sa.String(80), nullable=False),
        sa.Column("direction", sa.String(40), nullable=False, server_default=""),
        sa.Column("nationality", sa.String(3), nullable=False, server_default=""),
        sa.Column("sex_age", sa.String(40), nullable=False, server_default=""),
        sa.Column("value_low", sa.Float, nullable=False),
        sa.Column("value_high", sa.Float, nullable=False),
        sa.Column("source_publisher", sa.String(300), nullable=False),
        sa.Column("source_url", sa.String(500), nullable=False, server_default=""),
        sa.Column("source_date", sa.Date, nullable=True),
        sa.Column("reliability", sa.String(2), nullable=False, server_default=""),
        sa.Column("coverage", sa.String(500), nullable=False, server_default=""),
        sa.UniqueConstraint(
            "date",
            "end_date",
            "stat",
            "place_name",
            "place_code",
            "indicator",
            "direction",
            "nationality",
            "sex_age",
            "source_publisher",
            "source_url",
            name="uq_observation_natural_key",
        ),
    )
    op.create_index("ix_observation_place_indicator", "observation", ["place_name", "indicator"])


def downgrade() -> None:
    op.drop_index("ix_observation_place_indicator", "observation")
    op.drop_table("observation")
