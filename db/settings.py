"""Runtime settings, read from the environment (and a .env file when present)."""

from __future__ import annotations

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from db.engine import DEFAULT_SQLITE_PATH, normalize_database_url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str = Field(
        default=f"sqlite+aiosqlite:///{DEFAULT_SQLITE_PATH}",
        validation_alias=AliasChoices("SKILLGAP_DATABASE_URL", "DATABASE_URL"),
    )

    # Slack credentials: a bot token and signing secret for one workspace, or OAuth
    # client credentials for many; an app-level token switches to Socket Mode.
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    slack_state_secret: str | None = None
    # OAuth mode keeps every workspace's tokens in the store, sealed with this Fernet key (or
    # several, comma-separated, newest first); without one it refuses to start unless
    # plain-text tokens are allowed, for development only.
    token_key: str | None = Field(default=None, validation_alias=AliasChoices("SKILLGAP_TOKEN_KEY"))
    allow_plaintext_tokens: bool = Field(
        default=False, validation_alias=AliasChoices("SKILLGAP_ALLOW_PLAINTEXT_TOKENS")
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/",
        validation_alias=AliasChoices("SLACK_API_URL", "SKILLGAP_SLACK_API_URL"),
    )

    # Answers go to Slack's response URLs (https://hooks.slack.com/...) only; the tests and the
    # shell add their local stub's base URL here. Nothing else is ever posted to.
    slack_response_url_base: str | None = Field(
        default=None, validation_alias=AliasChoices("SKILLGAP_RESPONSE_URL_BASE")
    )
    # HTTP mode refuses larger request bodies (413) while reading them, before any other check.
    # Slack's largest payloads (a view submission with a full modal) are far below this.
    max_body_bytes: int = Field(
        default=4 * 1024 * 1024, gt=0, validation_alias=AliasChoices("SKILLGAP_MAX_BODY_BYTES")
    )
    # On SIGTERM: how long work already acked (DMs, late answers) may take to finish.
    shutdown_grace_seconds: float = Field(
        default=10.0, ge=0, validation_alias=AliasChoices("SKILLGAP_SHUTDOWN_GRACE_SECONDS")
    )

    host: str = Field(default="0.0.0.0", validation_alias=AliasChoices("SKILLGAP_HOST", "HOST"))
    port: int = Field(default=3000, validation_alias=AliasChoices("PORT", "SKILLGAP_PORT"))

    # The role answered when a command names none.
    default_role: str = Field(
        default="AI Engineer", validation_alias=AliasChoices("SKILLGAP_DEFAULT_ROLE")
    )
    # A digest slot missed while the clock was down is still sent within this many hours.
    digest_grace_hours: float = Field(
        default=12.0, validation_alias=AliasChoices("SKILLGAP_DIGEST_GRACE_HOURS")
    )
    # Digest delivery: a worker's lease on a delivery, chat.postMessage calls per second per
    # workspace (Slack allows short bursts; one per second per channel is fixed), and retries.
    digest_lease_seconds: float = Field(
        default=300.0, validation_alias=AliasChoices("SKILLGAP_DIGEST_LEASE_SECONDS")
    )
    digest_workspace_rate: float = Field(
        default=5.0, gt=0, validation_alias=AliasChoices("SKILLGAP_DIGEST_WORKSPACE_RATE")
    )
    digest_max_attempts: int = Field(
        default=6, ge=1, validation_alias=AliasChoices("SKILLGAP_DIGEST_MAX_ATTEMPTS")
    )
    digest_backoff_seconds: float = Field(
        default=30.0, ge=0, validation_alias=AliasChoices("SKILLGAP_DIGEST_BACKOFF_SECONDS")
    )
    # Job-board feeds (`skillgap feeds`): the team's own keys, used under each provider's terms.
    adzuna_api_url: str = Field(
        default="https://api.adzuna.com/v1/api", validation_alias=AliasChoices("ADZUNA_API_URL")
    )
    adzuna_app_id: str = Field(default="", validation_alias=AliasChoices("ADZUNA_APP_ID"))
    adzuna_app_key: str = Field(default="", validation_alias=AliasChoices("ADZUNA_APP_KEY"))
    reed_api_url: str = Field(
        default="https://www.reed.co.uk/api/1.0", validation_alias=AliasChoices("REED_API_URL")
    )
    reed_api_key: str = Field(default="", validation_alias=AliasChoices("REED_API_KEY"))
    log_level: str = Field(default="INFO", validation_alias=AliasChoices("SKILLGAP_LOG_LEVEL"))

    @field_validator("database_url")
    @classmethod
    def _normalize(cls, url: str) -> str:
        return normalize_database_url(url)

    @property
    def has_single_workspace_credentials(self) -> bool:
        return bool(self.slack_bot_token and self.slack_signing_secret)

    @property
    def has_oauth_credentials(self) -> bool:
        return bool(self.slack_client_id and self.slack_client_secret and self.slack_signing_secret)

    @property
    def has_slack_credentials(self) -> bool:
        return self.has_single_workspace_credentials or self.has_oauth_credentials


def load_settings() -> Settings:
    return Settings()
