"""Corrections with history, and case-insensitive usernames.

``observation`` gains who recorded its current value and when; ``observation_revision`` keeps
every value a correction replaced. ``web_user`` gets a unique index on ``lower(username)``
(a store holding two names that differ only in case is refused, naming them: an admin must
rename one first).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("observation") as batch:
        batch.add_column(sa.Column("recorded_at", sa.DateTime, nullable=True))
        batch.add_column(sa.Column("recorded_by", sa.String(64), nullable=False, server_default=""))
    op.create_table(
        "observation_revision",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "observation_id",
            sa.Integer,
            sa.ForeignKey("observation.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("value_low", sa.Float, nullable=False),
        sa.Column("value_high", sa.Float, nullable=False),
        sa.Column("source_date", sa.Date, nullable=True),
        sa.Column("reliability", sa.String(2), nullable=False, server_default=""),
        sa.Column("coverage", sa.String(500), nullable=False, server_default=""),
        sa.Column("recorded_at", sa.DateTime, nullable=True),
        sa.Column("recorded_by", sa.String(64), nullable=False, server_default=""),
        sa.Column("replaced_at", sa.DateTime, nullable=False),
        sa.Column("replaced_by", sa.String(64), nullable=False),
    )
    op.create_index(
        "ix_observation_revision_observation_id", "observation_revision", ["observation_id"]
    )
    clashes = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT lower(username) FROM web_user GROUP BY lower(username) "
                "HAVING count(*) > 1 ORDER BY 1"
            )
        )
        .scalars()
        .all()
    )
    if clashes:
        raise RuntimeError(
            "usernames become case-insensitive, and these name several accounts each: "
            + ", ".join(clashes)
        )
    op.create_index(
        "uq_web_user_username_lower", "web_user", [sa.text("lower(username)")], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_web_user_username_lower", "web_user")
    op.drop_index("ix_observation_revision_observation_id", "observation_revision")
    op.drop_table("observation_revision")
    with op.batch_alter_table("observation") as batch:
        batch.drop_column("recorded_by")
        batch.drop_column("recorded_at")
