"""Tables the Slack app keeps: OAuth installations and state (slack_sdk's shapes), seen events."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import BigInteger, Column, DateTime, String
from sqlmodel import Field, SQLModel

# slack_sdk's async SQLAlchemy stores read and write these; they are declared here, with
# slack_sdk's own column definitions, so Alembic creates them rather than the app at run time.
INSTALLATIONS_TABLE = "slack_installations"
BOTS_TABLE = "slack_bots"
OAUTH_STATES_TABLE = "slack_oauth_states"

slack_installations = SQLAlchemyInstallationStore.build_installations_table(
    SQLModel.metadata, INSTALLATIONS_TABLE
)
slack_bots = SQLAlchemyInstallationStore.build_bots_table(SQLModel.metadata, BOTS_TABLE)
slack_oauth_states = SQLAlchemyOAuthStateStore.build_oauth_states_table(
    SQLModel.metadata, OAUTH_STATES_TABLE
)

# The secrets among their columns: access and refresh tokens, kept sealed (db/token_cipher.py).
TOKEN_COLUMNS = {
    INSTALLATIONS_TABLE: ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token"),
    BOTS_TABLE: ("bot_token", "bot_refresh_token"),
}
# A sealed token is longer than the 200 characters slack_sdk's tables give a plain one.
SEALED_TOKEN_LENGTH = 500
for _table in (slack_installations, slack_bots):
    for _name in TOKEN_COLUMNS[_table.name]:
        _table.c[_name].type = String(SEALED_TOKEN_LENGTH)


class ProcessedEvent(SQLModel, table=True):
    """An Events API delivery already handled; Slack's retries of it are acked and skipped."""

    __tablename__ = "slack_processed_events"

    event_id: str = Field(sa_column=Column(String(64), primary_key=True))
    team_id: str = Field(default="", max_length=32)
    received_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, index=True)
    )


class AcceptedRequest(SQLModel, table=True):
    """A signed request already accepted; the same signature again, within the five minutes a
    signature is valid for, is a replay and runs nothing."""

    __tablename__ = "slack_accepted_requests"

    # "v0=" and 64 hex digits: the HMAC of the timestamp and body, unique per request.
    signature: str = Field(sa_column=Column(String(67), primary_key=True))
    # The request's own X-Slack-Request-Timestamp (Unix seconds); old rows go by it.
    signed_at: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
