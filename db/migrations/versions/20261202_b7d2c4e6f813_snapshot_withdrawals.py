"""snapshot withdrawals and their audit trail

Revision ID: b7d2c4e6f813
Revises: 9c3e5a7d1b20
Create Date: 2026-12-02 06:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "b7d2c4e6f813"
down_revision: str | None = "9c3e5a7d1b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("market_snapshots", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("withdrawn_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
    op.create_table(
        "snapshot_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.ForeignKeyConstraint(["snapshot_id"], ["market_snapshots.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("snapshot_audit", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_snapshot_audit_snapshot_id"), ["snapshot_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("snapshot_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_snapshot_audit_snapshot_id"))
    op.drop_table("snapshot_audit")
    with op.batch_alter_table("market_snapshots", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_at")
