"""skill parents: the skills graph (families and their members)

Revision ID: 5c1d2e3f4a5b
Revises: b7d2c4e6f813
Create Date: 2026-12-02 05:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c1d2e3f4a5b"
down_revision: str | None = "b7d2c4e6f813"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "skill_parents",
        sa.Column("skill_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=False),
        sa.Column("example_rank", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["parent_id"], ["skills.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["skill_id"], ["skills.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("skill_id", "parent_id"),
    )
    op.create_index(
        op.f("ix_skill_parents_parent_id"), "skill_parents", ["parent_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_skill_parents_parent_id"), table_name="skill_parents")
    op.drop_table("skill_parents")
