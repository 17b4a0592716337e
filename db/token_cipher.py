"""Slack tokens at rest: sealed with Fernet under SKILLGAP_TOKEN_KEY, opened when read.

A sealed value is "fernet:" followed by the Fernet token. A value without that prefix was
stored in plain text (before encryption came, or in development without a key) and reads
as it is; `seal_stored_tokens` seals every such value once a key is set: the migration
that brought encryption does it at upgrade time, and every start with a key does it again.
"""

from __future__ import annotations

import logging

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import TableClause, and_, column, not_, or_, select, table, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from db.settings import Settings
from db.slack_models import TOKEN_COLUMNS

logger = logging.getLogger(__name__)

SEALED_PREFIX = "fernet:"
MAKE_A_KEY = (
    'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


class TokenKeyError(ValueError):
    """The token key is missing where it is required, or is not a Fernet key (one line)."""


class TokenCipher:
    """Seals and opens token values. The key setting may list several keys, newest first:
    values are sealed with the first and opened with any, so an old key can be retired."""

    def __init__(self, keys: str) -> None:
        try:
            ciphers = [Fernet(key.strip()) for key in keys.split(",") if key.strip()]
        except (ValueError, TypeError):
            ciphers = []
        if not ciphers:
            raise TokenKeyError(
                "SKILLGAP_TOKEN_KEY is not a Fernet key (32 url-safe base64-encoded bytes, "
                f"or several separated by commas, newest first); make one with {MAKE_A_KEY}"
            )
        self._cipher = MultiFernet(ciphers)

    def seal(self, value: str | None) -> str | None:
        if value is None or value.startswith(SEALED_PREFIX):
            return value
        return SEALED_PREFIX + self._cipher.encrypt(value.encode()).decode()

    def open(self, value: str | None) -> str | None:
        """The token; a plain-text value as it is; None when no key given can open it."""
        if value is None or not value.startswith(SEALED_PREFIX):
            return value
        try:
            return self._cipher.decrypt(value.removeprefix(SEALED_PREFIX).encode()).decode()
        except InvalidToken:
            logger.error("a stored Slack token was sealed with a key SKILLGAP_TOKEN_KEY lacks")
            return None


def open_without_key(value: str | None) -> str | None:
    """Reading with no key (development): plain text as it is, a sealed value as nothing."""
    if value is not None and value.startswith(SEALED_PREFIX):
        logger.error("a stored Slack token is sealed, but SKILLGAP_TOKEN_KEY is not set")
        return None
    return value


def cipher_from_settings(settings: Settings) -> TokenCipher | None:
    """The cipher for the store's tokens; None where tokens are kept unsealed.

    OAuth mode keeps every workspace's tokens in the store, so it refuses to run without a
    key unless SKILLGAP_ALLOW_PLAINTEXT_TOKENS=1 says this is development.
    """
    if settings.token_key:
        return TokenCipher(settings.token_key)
    if settings.has_oauth_credentials and not settings.allow_plaintext_tokens:
        raise TokenKeyError(
            "SKILLGAP_TOKEN_KEY is not set: OAuth mode keeps each workspace's Slack tokens in "
            f"the store, encrypted with that key. Make one with {MAKE_A_KEY} "
            "(or, for development only, set SKILLGAP_ALLOW_PLAINTEXT_TOKENS=1)."
        )
    return None


def _token_table(name: str) -> TableClause:
    return table(name, column("id"), *(column(token) for token in TOKEN_COLUMNS[name]))


def seal_stored_tokens(connection: Connection, cipher: TokenCipher) -> int:
    """Seal every token value still stored in plain text; the number of values sealed."""
    sealed = 0
    for name, columns in TOKEN_COLUMNS.items():
        tokens = _token_table(name)
        plain = [
            and_(tokens.c[c].is_not(None), not_(tokens.c[c].startswith(SEALED_PREFIX)))
            for c in columns
        ]
        rows = connection.execute(select(tokens).where(or_(*plain))).mappings().all()
        for row in rows:
            values = {c: cipher.seal(row[c]) for c in columns if row[c] is not None}
            connection.execute(update(tokens).where(tokens.c.id == row["id"]).values(values))
            sealed += sum(1 for c in columns if row[c] and not row[c].startswith(SEALED_PREFIX))
    return sealed


async def seal_plaintext_tokens(engine: AsyncEngine, cipher: TokenCipher | None) -> int:
    """At start: seal tokens stored in plain text before the key was set (none: no writes)."""
    if cipher is None:
        return 0
    async with engine.begin() as connection:
        sealed = await connection.run_sync(seal_stored_tokens, cipher)
    if sealed:
        logger.info("sealed %d Slack token(s) stored in plain text", sealed)
    return sealed
