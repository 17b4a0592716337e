"""ingested ad text: what each ad's skills were extracted from, compressed, for reextract

Revision ID: 7e3f4a5b6c7d
Revises: 6d2e3f4a5b6c
Create Date: 2026-12-02 08:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7e3f4a5b6c7d"
down_revision: str | None = "6d2e3f4a5b6c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: ads stored before this have no text kept (reextract reads their skills only).
    with op.batch_alter_table("ingested_ads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("packed_text", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ingested_ads", schema=None) as batch_op:
        batch_op.drop_column("packed_text")
