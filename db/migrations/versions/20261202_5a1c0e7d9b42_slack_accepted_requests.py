"""slack accepted requests (replay protection)

Revision ID: 5a1c0e7d9b42
Revises: 41ae1d089997
Create Date: 2026-12-02 05:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5a1c0e7d9b42"
down_revision: str | None = "41ae1d089997"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slack_accepted_requests",
        sa.Column("signature", sa.String(length=67), nullable=False),
        sa.Column("signed_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("signature"),
    )
    with op.batch_alter_table("slack_accepted_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_slack_accepted_requests_signed_at"), ["signed_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("slack_accepted_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_slack_accepted_requests_signed_at"))
    op.drop_table("slack_accepted_requests")
