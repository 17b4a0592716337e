"""Where each workspace's Slack installation is kept: slack_sdk's store, tokens sealed at rest."""

from __future__ import annotations

import copy
from typing import Any, TypeVar

from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from sqlalchemy.ext.asyncio import AsyncEngine

from db.settings import Settings
from db.slack_models import BOTS_TABLE, INSTALLATIONS_TABLE
from db.token_cipher import TokenCipher, cipher_from_settings, open_without_key

_Entity = TypeVar("_Entity", Bot, Installation)
_BOT_TOKENS = ("bot_token", "bot_refresh_token")
_USER_TOKENS = ("user_token", "user_refresh_token")


class SealedInstallationStore(AsyncSQLAlchemyInstallationStore):
    """slack_sdk's SQLAlchemy store, with every token sealed before it is written and opened
    after it is read. Rows written before sealing began read as they are."""

    def __init__(self, client_id: str, engine: AsyncEngine, cipher: TokenCipher | None) -> None:
        super().__init__(
            client_id,
            engine,
            bots_table_name=BOTS_TABLE,
            installations_table_name=INSTALLATIONS_TABLE,
        )
        self.cipher = cipher

    def _sealed(self, entity: _Entity, fields: tuple[str, ...]) -> _Entity:
        if self.cipher is None:
            return entity
        sealed = copy.copy(entity)  # the caller's object keeps its tokens usable
        for name in fields:
            setattr(sealed, name, self.cipher.seal(getattr(entity, name)))
        return sealed

    def _opened(self, entity: _Entity | None, fields: tuple[str, ...]) -> _Entity | None:
        if entity is None:
            return None
        read = open_without_key if self.cipher is None else self.cipher.open
        for name in fields:
            setattr(entity, name, read(getattr(entity, name)))
        return entity

    async def async_save(self, installation: Installation) -> None:
        await super().async_save(self._sealed(installation, _BOT_TOKENS + _USER_TOKENS))

    async def async_save_bot(self, bot: Bot) -> None:
        await super().async_save_bot(self._sealed(bot, _BOT_TOKENS))

    async def async_find_bot(self, **query: Any) -> Bot | None:
        return self._opened(await super().async_find_bot(**query), _BOT_TOKENS)

    async def async_find_installation(self, **query: Any) -> Installation | None:
        found = await super().async_find_installation(**query)
        return self._opened(found, _BOT_TOKENS + _USER_TOKENS)


def installation_store(settings: Settings, engine: AsyncEngine) -> SealedInstallationStore:
    """The store OAuth mode reads and writes installations through."""
    return SealedInstallationStore(
        settings.slack_client_id or "", engine, cipher_from_settings(settings)
    )
