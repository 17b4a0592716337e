"""Stopping HTTP mode (what uvicorn does on SIGTERM): answers already acknowledged still go
out within the grace period, and what cannot finish in time is logged, not silently lost."""

from __future__ import annotations

import logging
import time

import aiohttp
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.slack_requests import signed_headers, slash_command_body
from bot.slack_stub import SlackStub
from bot.web import SkillGapWeb
from tests.bot import standin
from tests.slack_helpers import SIGNING_SECRET, serving, settings_for_stub

STANDIN = (standin,)


async def send_dm_commands(base_url: str, stub: SlackStub, count: int) -> None:
    """`count` commands acked at once, each sending a DM afterwards."""
    async with aiohttp.ClientSession() as session:
        for number in range(count):
            body = slash_command_body("dm", response_url=stub.response_url(f"r{number}"))
            headers = signed_headers(SIGNING_SECRET, body)
            async with session.post(
                f"{base_url}/slack/events", data=body, headers=headers
            ) as response:
                assert (response.status, await response.text()) == (200, "Sent you a DM")


async def test_acknowledged_answers_are_sent_before_the_server_stops(
    sqlite_engine: AsyncEngine, stub: SlackStub
) -> None:
    # Opening the DM takes a second: every DM is still on its way when the stop comes.
    stub.method_latency["conversations.open"] = 1.0
    url = sqlite_engine.url.render_as_string(hide_password=False)
    settings = settings_for_stub(stub, url, shutdown_grace_seconds=10)
    web = SkillGapWeb(settings, engine=sqlite_engine, features=STANDIN)
    async with serving(web) as base_url:
        await send_dm_commands(base_url, stub, 5)
    # serving() has returned: the server stopped (as on SIGTERM) and shut the app down.
    delivered = [call for call in stub.calls_to("chat.postMessage") if call.ok]
    assert len(delivered) == 5


async def test_answers_still_running_after_the_grace_period_are_logged_as_abandoned(
    sqlite_engine: AsyncEngine, stub: SlackStub, caplog: pytest.LogCaptureFixture
) -> None:
    stub.method_latency["conversations.open"] = 2.0
    url = sqlite_engine.url.render_as_string(hide_password=False)
    settings = settings_for_stub(stub, url, shutdown_grace_seconds=0.2)
    web = SkillGapWeb(settings, engine=sqlite_engine, features=STANDIN)
    with caplog.at_level(logging.INFO, logger="bot.runner"):
        async with serving(web) as base_url:
            await send_dm_commands(base_url, stub, 2)
            stopping = time.monotonic()
        stopped_after = time.monotonic() - stopping
    assert stopped_after < 1.5  # the grace period, not the 2 s the DMs would have taken
    [warning] = [record for record in caplog.records if record.levelno == logging.WARNING]
    message = warning.getMessage()
    assert "abandoned 2 acknowledged answers" in message
    assert "/skillgap dm" in message
    assert stub.calls_to("chat.postMessage") == []
