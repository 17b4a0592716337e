"""Slack tokens at rest: sealed in the installation tables, read back, and migrated."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from sqlalchemy import event, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import MIGRATIONS_DIR, upgrade
from db.installations import SealedInstallationStore
from db.settings import Settings
from db.slack_models import BOTS_TABLE, INSTALLATIONS_TABLE, slack_bots, slack_installations
from db.token_cipher import (
    TokenCipher,
    TokenKeyError,
    cipher_from_settings,
    seal_plaintext_tokens,
)

CLIENT_ID = "111.222"
BOT_TOKEN = "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
# A user token as long as Slack's get: sealed, it outgrows slack_sdk's 200-character columns.
USER_TOKEN = "xoxp-1234567890-1234567890-1234567890123-0123456789abcdef0123456789abcdef"
REFRESH_TOKEN = "xoxe-1-" + "My0xLTEyMzQ1Njc4OTAtMTIzNDU2Nzg5MDEyMy0" * 3


def an_installation(team_id: str = "T0SEALED") -> Installation:
    return Installation(
        app_id="A0SKILLGAP",
        team_id=team_id,
        bot_token=BOT_TOKEN,
        bot_id="B0BOT",
        bot_user_id="U0BOT",
        bot_refresh_token=REFRESH_TOKEN,
        user_id="U0INSTALLER",
        user_token=USER_TOKEN,
    )


async def stored_tokens(engine: AsyncEngine) -> list[str]:
    """Every token value in the two tables, as stored."""
    async with engine.connect() as connection:
        installations = await connection.execute(
            select(
                slack_installations.c.bot_token,
                slack_installations.c.bot_refresh_token,
                slack_installations.c.user_token,
            )
        )
        values = [value for row in installations.all() for value in row]
        bots = await connection.execute(
            select(slack_bots.c.bot_token, slack_bots.c.bot_refresh_token)
        )
        values += [value for row in bots.all() for value in row]
    return values


async def test_tokens_are_sealed_in_the_store_and_read_back(engine: AsyncEngine) -> None:
    store = SealedInstallationStore(CLIENT_ID, engine, TokenCipher(Fernet.generate_key().decode()))
    installation = an_installation()
    await store.async_save(installation)
    assert installation.bot_token == BOT_TOKEN  # the caller's object is left usable
    values = await stored_tokens(engine)
    assert len(values) == 5 and all(value.startswith("fernet:") for value in values)
    assert not any(token in value for value in values for token in (BOT_TOKEN, USER_TOKEN))

    bot = await store.async_find_bot(enterprise_id=None, team_id="T0SEALED")
    assert bot is not None
    assert (bot.bot_token, bot.bot_refresh_token) == (BOT_TOKEN, REFRESH_TOKEN)
    found = await store.async_find_installation(
        enterprise_id=None, team_id="T0SEALED", user_id="U0INSTALLER"
    )
    assert found is not None
    assert (found.bot_token, found.user_token) == (BOT_TOKEN, USER_TOKEN)


async def test_rows_stored_in_plain_text_read_and_are_sealed_at_the_next_start(
    engine: AsyncEngine,
) -> None:
    plain = AsyncSQLAlchemyInstallationStore(
        CLIENT_ID, engine, bots_table_name=BOTS_TABLE, installations_table_name=INSTALLATIONS_TABLE
    )
    await plain.async_save(an_installation())
    cipher = TokenCipher(Fernet.generate_key().decode())
    store = SealedInstallationStore(CLIENT_ID, engine, cipher)
    bot = await store.async_find_bot(enterprise_id=None, team_id="T0SEALED")
    assert bot is not None and bot.bot_token == BOT_TOKEN

    assert await seal_plaintext_tokens(engine, cipher) == 5
    assert all(value.startswith("fernet:") for value in await stored_tokens(engine))
    bot = await store.async_find_bot(enterprise_id=None, team_id="T0SEALED")
    assert bot is not None and bot.bot_token == BOT_TOKEN

    # Every later start finds nothing to seal and writes nothing.
    writes: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE"):
            writes.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        assert await seal_plaintext_tokens(engine, cipher) == 0
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    assert writes == []


async def test_an_old_key_still_opens_what_it_sealed(sqlite_engine: AsyncEngine) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    await SealedInstallationStore(CLIENT_ID, sqlite_engine, TokenCipher(old)).async_save(
        an_installation()
    )
    rotated = SealedInstallationStore(CLIENT_ID, sqlite_engine, TokenCipher(f"{new},{old}"))
    bot = await rotated.async_find_bot(enterprise_id=None, team_id="T0SEALED")
    assert bot is not None and bot.bot_token == BOT_TOKEN
    # A key that never sealed it opens nothing, rather than handing out garbage.
    stranger = SealedInstallationStore(CLIENT_ID, sqlite_engine, TokenCipher(new))
    bot = await stranger.async_find_bot(enterprise_id=None, team_id="T0SEALED")
    assert bot is not None and bot.bot_token is None
    # Nor does running without a key (development) hand out the sealed text as a token.
    keyless = SealedInstallationStore(CLIENT_ID, sqlite_engine, None)
    bot = await keyless.async_find_bot(enterprise_id=None, team_id="T0SEALED")
    assert bot is not None and bot.bot_token is None


def oauth_settings(**values: Any) -> Settings:
    return Settings(
        slack_client_id=CLIENT_ID,
        slack_client_secret="secret",
        slack_signing_secret="signing",
        **values,
    )


def test_oauth_mode_needs_a_key_unless_plain_text_is_allowed() -> None:
    with pytest.raises(TokenKeyError) as refused:
        cipher_from_settings(oauth_settings(token_key=None, allow_plaintext_tokens=False))
    assert "SKILLGAP_TOKEN_KEY is not set" in str(refused.value)
    assert "SKILLGAP_ALLOW_PLAINTEXT_TOKENS=1" in str(refused.value)
    assert "\n" not in str(refused.value)
    assert cipher_from_settings(oauth_settings(token_key=None, allow_plaintext_tokens=True)) is None
    with pytest.raises(TokenKeyError, match="is not a Fernet key"):
        cipher_from_settings(oauth_settings(token_key="not-a-key"))


def _migrate(connection: Connection, revision: str, downgrade: bool) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    (command.downgrade if downgrade else command.upgrade)(config, revision)


@pytest.mark.parametrize("key_at_upgrade", [True, False])
async def test_the_migration_seals_stored_tokens_when_the_key_is_set(
    empty_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch, key_at_upgrade: bool
) -> None:
    async with empty_engine.begin() as connection:
        # To just before the migration that brought sealing.
        await connection.run_sync(_migrate, "9c3e5a7d1b20-1", True)
    await AsyncSQLAlchemyInstallationStore(
        CLIENT_ID,
        empty_engine,
        bots_table_name=BOTS_TABLE,
        installations_table_name=INSTALLATIONS_TABLE,
    ).async_save(
        Installation(
            app_id="A0", team_id="T0OLD", bot_token=BOT_TOKEN, user_id="U0", user_token=USER_TOKEN
        )
    )
    key = Fernet.generate_key().decode()
    if key_at_upgrade:
        monkeypatch.setenv("SKILLGAP_TOKEN_KEY", key)
    else:
        monkeypatch.delenv("SKILLGAP_TOKEN_KEY", raising=False)
    await upgrade(empty_engine)
    values = [value for value in await stored_tokens(empty_engine) if value is not None]
    assert len(values) == 3
    if key_at_upgrade:
        assert all(value.startswith("fernet:") for value in values)
    else:
        assert sorted(values) == sorted([BOT_TOKEN, BOT_TOKEN, USER_TOKEN])  # kept, readable
    store = SealedInstallationStore(CLIENT_ID, empty_engine, TokenCipher(key))
    found = await store.async_find_installation(enterprise_id=None, team_id="T0OLD")
    assert found is not None and (found.bot_token, found.user_token) == (BOT_TOKEN, USER_TOKEN)
