"""Fixtures for the bot's tests: a fresh local Slack stub per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.slack_stub import SlackStub


@pytest.fixture
async def stub() -> AsyncIterator[SlackStub]:
    async with SlackStub() as running:
        yield running
