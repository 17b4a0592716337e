"""pay figures keep the source's qualifier ("around £750/day")

Revision ID: c3e9f1a2b4d6
Revises: 5c1d2e3f4a5b
Create Date: 2026-12-02 06:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3e9f1a2b4d6"
down_revision: str | None = "5c1d2e3f4a5b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pay_figures", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("qualifier", sa.String(length=40), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("pay_figures", schema=None) as batch_op:
        batch_op.drop_column("qualifier")
