"""Slack tokens sealed at rest: token columns widened, stored tokens encrypted

Revision ID: 9c3e5a7d1b20
Revises: 5a1c0e7d9b42
Create Date: 2026-12-02 06:05:00.000000

With SKILLGAP_TOKEN_KEY set at upgrade time, every token already stored is encrypted here.
Without it the rows stay in plain text (they still read): the first start with the key set
encrypts them, and OAuth mode does not start without a key unless
SKILLGAP_ALLOW_PLAINTEXT_TOKENS=1. A downgrade narrows the columns again, which PostgreSQL
refuses while sealed tokens longer than 200 characters are stored.
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.settings import load_settings
from db.token_cipher import TokenCipher, seal_stored_tokens

revision: str = "9c3e5a7d1b20"
down_revision: str | None = "5a1c0e7d9b42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOKEN_COLUMNS = {
    "slack_installations": ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token"),
    "slack_bots": ("bot_token", "bot_refresh_token"),
}
logger = logging.getLogger("alembic.runtime.migration")


def _resize(length: int) -> None:
    for table, columns in TOKEN_COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in columns:
                batch_op.alter_column(
                    name,
                    existing_type=sa.String(length=200 if length == 500 else 500),
                    type_=sa.String(length=length),
                    existing_nullable=True,
                )


def upgrade() -> None:
    _resize(500)
    key = load_settings().token_key
    if key:
        sealed = seal_stored_tokens(op.get_bind(), TokenCipher(key))
        logger.info("encrypted %d stored Slack token(s) with SKILLGAP_TOKEN_KEY", sealed)
    else:
        logger.info(
            "SKILLGAP_TOKEN_KEY is not set: stored Slack tokens stay in plain text until a "
            "start with the key encrypts them"
        )


def downgrade() -> None:
    _resize(200)
