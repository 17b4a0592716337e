"""HTTP mode over real HTTP: uvicorn serving the ASGI app; signatures, OAuth, health, metrics."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.slack_requests import SlackUser, signed_headers, slash_command_body
from bot.slack_stub import SlackStub
from bot.web import MissingSigningSecret, SkillGapWeb
from db.slack_models import slack_bots, slack_installations
from tests.bot import standin
from tests.slack_helpers import SIGNING_SECRET, serving, settings_for_stub

STANDIN = (standin,)


@pytest.fixture
async def server(sqlite_engine: AsyncEngine, stub: SlackStub) -> AsyncIterator[str]:
    url = sqlite_engine.url.render_as_string(hide_password=False)
    web = SkillGapWeb(settings_for_stub(stub, url), engine=sqlite_engine, features=STANDIN)
    async with serving(web) as base_url:
        yield base_url


async def post_command(
    base_url: str, body: str, headers: dict[str, str]
) -> tuple[int, str, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{base_url}/slack/events", data=body, headers=headers) as response,
    ):
        return response.status, await response.text(), dict(response.headers)


async def test_a_signed_command_is_answered_over_http(server: str, stub: SlackStub) -> None:
    body = slash_command_body("hello http", response_url=stub.response_url("r"))
    status, text, headers = await post_command(server, body, signed_headers(SIGNING_SECRET, body))
    assert status == 200
    assert '"echo: hello http"' in text
    assert headers["Content-Type"].startswith("application/json")


async def test_answers_after_the_ack_reach_the_stub(server: str, stub: SlackStub) -> None:
    body = slash_command_body("dm", response_url=stub.response_url("r"))
    status, text, _ = await post_command(server, body, signed_headers(SIGNING_SECRET, body))
    assert (status, text) == (200, "Sent you a DM")
    [message] = await stub.wait_for("chat.postMessage")
    assert message.args["text"] == "Private answer"


@pytest.mark.parametrize("tamper", ["forged", "unsigned", "stale", "altered body"])
async def test_bad_requests_get_401_and_run_nothing(
    server: str, stub: SlackStub, tamper: str
) -> None:
    body = slash_command_body("dm", response_url=stub.response_url("r"))
    headers = signed_headers(SIGNING_SECRET, body)
    if tamper == "forged":
        headers = signed_headers("guessed-secret", body)
    elif tamper == "unsigned":
        headers = {"content-type": "application/x-www-form-urlencoded"}
    elif tamper == "stale":
        headers = signed_headers(SIGNING_SECRET, body, timestamp=int(time.time()) - 301)
    else:
        body = body.replace("dm", "later")
    status, _, _ = await post_command(server, body, headers)
    assert status == 401
    await asyncio.sleep(0.2)  # anything wrongly started would have called the stub by now
    assert stub.calls_to("chat.postMessage") == []
    assert stub.calls_to("conversations.open") == []
    assert stub.responses_to() == []


async def test_health_and_metrics(server: str, stub: SlackStub) -> None:
    body = slash_command_body("role x", response_url=stub.response_url("r"))
    await post_command(server, body, signed_headers(SIGNING_SECRET, body))
    await post_command(server, body, signed_headers("wrong", body))
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{server}/healthz") as response:
            assert response.status == 200
            assert await response.json() == {"ok": True, "store": "ok"}
        async with session.get(f"{server}/metrics") as response:
            assert response.status == 200
            metrics = await response.text()
        async with session.get(f"{server}/nowhere") as response:
            assert response.status == 404
    assert 'skillgap_slack_requests_total{kind="command",subcommand="role"} 1.0' in metrics
    assert 'skillgap_slack_request_seconds_count{kind="command",subcommand="role"} 1.0' in metrics
    assert 'skillgap_slack_rejected_total{reason="unverified"} 1.0' in metrics


async def test_oauth_paths_are_absent_without_oauth(server: str) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{server}/slack/install") as response,
    ):
        assert response.status == 404


def test_http_mode_refuses_to_start_without_a_signing_secret(stub: SlackStub) -> None:
    with pytest.raises(MissingSigningSecret, match="SLACK_SIGNING_SECRET"):
        SkillGapWeb(settings_for_stub(stub, slack_signing_secret=None))


async def test_oauth_install_stores_the_installation_and_serves_that_workspace(
    sqlite_engine: AsyncEngine, stub: SlackStub
) -> None:
    url = sqlite_engine.url.render_as_string(hide_password=False)
    settings = settings_for_stub(
        stub,
        url,
        slack_bot_token=None,
        slack_client_id="111.222",
        slack_client_secret="client-secret",
        token_key=Fernet.generate_key().decode(),
    )
    web = SkillGapWeb(settings, engine=sqlite_engine, features=STANDIN)
    async with serving(web) as base_url, aiohttp.ClientSession() as session:
        async with session.get(f"{base_url}/slack/install", allow_redirects=False) as response:
            assert response.status == 200
            page = await response.text()
            cookie = response.headers["Set-Cookie"].split(";")[0]
        assert "client_id=111.222" in page
        state = cookie.partition("=")[2]
        assert f"state={state}" in page
        async with session.get(
            f"{base_url}/slack/oauth_redirect",
            params={"code": "the-code", "state": state},
            headers={"Cookie": cookie},
            allow_redirects=False,
        ) as response:
            assert response.status == 200, await response.text()
        [exchange] = stub.calls_to("oauth.v2.access")
        assert exchange.args["code"] == "the-code"

        async with sqlite_engine.connect() as connection:
            installs = await connection.scalar(
                select(func.count()).select_from(slack_installations)
            )
            bots = (
                await connection.execute(select(slack_bots.c.team_id, slack_bots.c.bot_token))
            ).all()
        assert installs == 1
        [(team_id, stored_token)] = bots
        assert team_id == "T0OAUTH"
        # Kept sealed: the token Slack handed out is not in the store.
        bot_token = exchange.response["access_token"]
        assert stored_token.startswith("fernet:") and bot_token not in stored_token

        user = SlackUser(team_id="T0OAUTH")
        body = slash_command_body("dm", user=user, response_url=stub.response_url("r"))
        status, text, _ = await post_command(base_url, body, signed_headers(SIGNING_SECRET, body))
        assert (status, text) == (200, "Sent you a DM")
        [message] = await stub.wait_for("chat.postMessage")
        assert message.token == bot_token
        assert message.team_id == "T0OAUTH"

        # A workspace that never installed the app is not served with anyone else's token.
        stranger = SlackUser(team_id="T0STRANGER")
        body = slash_command_body("dm", user=stranger, response_url=stub.response_url("s"))
        status, text, _ = await post_command(base_url, body, signed_headers(SIGNING_SECRET, body))
        await asyncio.sleep(0.2)
        assert len(stub.calls_to("chat.postMessage")) == 1
        assert "Sent you a DM" not in text


async def test_an_embedded_store_is_served_from_a_write_ahead_log(
    tmp_path: Path, stub: SlackStub
) -> None:
    """Each request writes its signature (replay protection): cheap only without an fsync per
    commit."""
    settings = settings_for_stub(stub, f"sqlite+aiosqlite:///{tmp_path / 'served.db'}")
    web = SkillGapWeb(settings, features=STANDIN, prepare_store=False)
    await web.startup()
    try:
        assert web.engine is not None
        async with web.engine.connect() as connection:
            assert await connection.scalar(text("PRAGMA journal_mode")) == "wal"
            assert await connection.scalar(text("PRAGMA synchronous")) == 1  # NORMAL
    finally:
        await web.shutdown()


async def test_a_command_containing_the_word_payload_is_read_as_typed(
    server: str, stub: SlackStub
) -> None:
    """Bolt 1.30 reads any form body containing "payload" as empty (it expects a payload field);
    the command must still arrive, over HTTP and through the app itself."""
    body = slash_command_body("payload design", response_url=stub.response_url("r"))
    status, text, _ = await post_command(server, body, signed_headers(SIGNING_SECRET, body))
    assert status == 200
    assert '"echo: payload design"' in text
