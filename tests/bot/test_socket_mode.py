"""Socket Mode for real: `run_socket_mode` connects to the stub's WebSocket and answers there."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.modes import SocketModeRefused, run_socket_mode
from bot.slack_requests import SlackUser, block_actions_body, event_body, slash_command_body
from bot.slack_stub import RESPONSE_URL_METHOD, RecordedCall, SlackStub
from tests.commands.helpers import action_ids, assert_valid_message, texts_of
from tests.slack_helpers import BOT_TOKEN, settings_for_stub

APP_TOKEN = "xapp-1-A0SKILLGAP-1-test"
# Bounded waits: generous, since the whole suite shares two cores and one event loop.
WITHIN = 10.0
CONNECT_WITHIN = 60.0


# -- payloads as Slack sends them over the socket (JSON objects, not form posts) ----------


def command_payload(text: str, *, response_url: str, user: SlackUser | None = None) -> dict:
    return dict(parse_qsl(slash_command_body(text, user=user, response_url=response_url)))


def button_payload(
    action_id: str, value: str, *, response_url: str, user: SlackUser | None = None
) -> dict:
    action = {"action_id": action_id, "type": "button", "value": value}
    form = parse_qs(block_actions_body([action], user=user, response_url=response_url))
    payload: dict = json.loads(form["payload"][0])
    return payload


def event_payload(event: dict[str, Any]) -> dict:
    payload: dict = json.loads(event_body(event))
    return payload


# -- the stub's Socket Mode server on its own ----------------------------------------------


async def test_connections_open_hands_an_app_token_a_websocket_url(stub: SlackStub) -> None:
    answer = await AsyncWebClient(base_url=stub.api_url).apps_connections_open(app_token=APP_TOKEN)
    url = str(answer["url"])
    assert url.startswith(f"{stub.socket_url}?ticket=")
    assert stub.socket_url.startswith("ws://127.0.0.1:")
    [call] = stub.calls_to("apps.connections.open")
    assert call.token == APP_TOKEN


async def test_connections_open_refuses_a_bot_token(stub: SlackStub) -> None:
    client = AsyncWebClient(base_url=stub.api_url)
    with pytest.raises(SlackApiError) as refused:
        await client.apps_connections_open(app_token=BOT_TOKEN)
    assert refused.value.response["error"] == "not_allowed_token_type"


async def test_a_websocket_url_works_once(stub: SlackStub) -> None:
    answer = await AsyncWebClient(base_url=stub.api_url).apps_connections_open(app_token=APP_TOKEN)
    url = str(answer["url"])
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url) as websocket:
            hello = await websocket.receive_json(timeout=WITHIN)
            assert hello["type"] == "hello"
            assert hello["connection_info"]["app_id"] == "A0SKILLGAP"
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(url)
        assert refused.value.status == 401
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await session.ws_connect(stub.socket_url)


async def test_envelopes_go_down_the_socket_and_acks_come_back(stub: SlackStub) -> None:
    with pytest.raises(RuntimeError, match="no app is connected"):
        await stub.socket_send_command({"command": "/skillgap"})
    answer = await AsyncWebClient(base_url=stub.api_url).apps_connections_open(app_token=APP_TOKEN)
    async with aiohttp.ClientSession() as session, session.ws_connect(answer["url"]) as ws:
        assert (await ws.receive_json(timeout=WITHIN))["type"] == "hello"
        connection = await stub.wait_for_socket(within=WITHIN)

        command_id = await stub.socket_send_command({"command": "/skillgap", "text": "help"})
        envelope = await ws.receive_json(timeout=WITHIN)
        assert envelope == {
            "envelope_id": command_id,
            "payload": {"command": "/skillgap", "text": "help"},
            "type": "slash_commands",
            "accepts_response_payload": True,
        }
        event_id = await stub.socket_send_event({"type": "event_callback"}, retry_attempt=1)
        event = await ws.receive_json(timeout=WITHIN)
        assert event["type"] == "events_api"
        assert event["accepts_response_payload"] is False
        assert (event["retry_attempt"], event["retry_reason"]) == (1, "")
        press_id = await stub.socket_send_interaction({"type": "block_actions"})
        submit_id = await stub.socket_send_interaction({"type": "view_submission"})
        press, submit = await ws.receive_json(timeout=WITHIN), await ws.receive_json()
        assert (press["type"], press["accepts_response_payload"]) == ("interactive", False)
        assert (submit["envelope_id"], submit["accepts_response_payload"]) == (submit_id, True)

        # Acks arrive out of order and are matched by envelope id; junk is kept aside.
        await ws.send_str("not json")
        await ws.send_json({"envelope_id": event_id})
        await ws.send_json({"envelope_id": command_id, "payload": {"text": "Hi"}})
        command_ack = await stub.socket_ack(command_id, within=WITHIN)
        assert command_ack.payload == {"text": "Hi"}
        event_ack = await stub.socket_ack(event_id, within=WITHIN)
        assert event_ack.payload is None
        assert connection.unreadable == ["not json"]
        with pytest.raises(TimeoutError):
            await stub.socket_ack(press_id, within=0.05)
    assert stub.socket_envelopes[command_id]["type"] == "slash_commands"


# -- the app in Socket Mode -----------------------------------------------------------------


@dataclass
class SocketModeApp:
    """`run_socket_mode` running against a stub, as `skillgap run` would with an app token."""

    stub: SlackStub
    task: asyncio.Task[None]

    async def command(self, text: str, user: SlackUser | None = None) -> dict[str, Any]:
        """Send `/skillgap text`; the ack's payload (the answer, when it is ready in time)."""
        response_url = self.stub.response_url()
        envelope_id = await self.stub.socket_send_command(
            command_payload(text, response_url=response_url, user=user)
        )
        ack = await self.stub.socket_ack(envelope_id, within=WITHIN)
        assert ack.payload is not None, "the command was acked without an answer"
        return ack.payload

    async def posts_to(self, response_id: str) -> RecordedCall:
        [post] = await self.stub.wait_for(
            lambda call: call.method == RESPONSE_URL_METHOD and call.response_url_id == response_id,
            within=WITHIN,
        )
        return post


async def _connected(stub: SlackStub, task: asyncio.Task[None], count: int = 1) -> None:
    """Wait for the app's connection, failing at once if the app stops instead."""
    waiter = asyncio.ensure_future(stub.wait_for_socket(count=count, within=CONNECT_WITHIN))
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if not waiter.done():
        waiter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiter
        task.result()  # raises what stopped the app
        raise AssertionError("run_socket_mode returned before connecting")
    waiter.result()


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, WITHIN)


@pytest.fixture(scope="module")
async def socket_app(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SocketModeApp]:
    store: Path = tmp_path_factory.mktemp("socket-mode") / "skillgap.db"
    async with SlackStub() as stub:
        # Socket Mode needs no signing secret: requests arrive over the app's own connection.
        settings = settings_for_stub(
            stub,
            f"sqlite+aiosqlite:///{store}",
            slack_app_token=APP_TOKEN,
            slack_signing_secret=None,
        )
        task = asyncio.create_task(run_socket_mode(settings))
        try:
            await _connected(stub, task)
            yield SocketModeApp(stub, task)
        finally:
            await _stop(task)


async def test_the_app_opens_its_connection_with_the_app_token(socket_app: SocketModeApp):
    opens = socket_app.stub.calls_to("apps.connections.open")
    assert opens and all(call.token == APP_TOKEN for call in opens)
    assert socket_app.stub.socket_connections[0].ticket in opens[0].response["url"]


async def test_role_command_is_answered_in_the_socket_ack(socket_app: SocketModeApp):
    card = await socket_app.command("role ai engineer")
    assert card["response_type"] == "ephemeral"
    assert_valid_message(card)
    shown = texts_of(card)
    assert "*£75,000* median\n£50,000–£120,000 typical" in shown
    assert "• Production LLM Deployment: 75% vs 25% = *50 pts*" in shown
    assert action_ids(card)["share_in_channel"] == "role ai-engineer"


async def test_unknown_role_over_the_socket_gets_suggestions(socket_app: SocketModeApp):
    answer = await socket_app.command("role ai enginer")
    assert_valid_message(answer)
    assert "AI Engineer" in texts_of(answer)
    assert "Traceback" not in json.dumps(answer)


async def test_home_opened_event_is_acked_and_publishes_the_home_tab(socket_app: SocketModeApp):
    stub = socket_app.stub
    user = f"U0HOME{uuid.uuid4().hex[:6].upper()}"
    envelope_id = await stub.socket_send_event(
        event_payload({"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home"})
    )
    ack = await stub.socket_ack(envelope_id, within=WITHIN)
    assert ack.payload is None  # events get an empty ack
    [publish] = await stub.wait_for(
        lambda call: call.method == "views.publish" and call.args.get("user_id") == user,
        within=WITHIN,
    )
    assert publish.token == BOT_TOKEN
    assert publish.ok
    view = publish.args["view"]
    assert view["type"] == "home"
    shown = texts_of(view)
    assert "Salary £75,000 median (£50,000–£120,000) · London £90,000" in shown
    assert "Largest gap: Production LLM Deployment, 75% demand vs 25% supply (50 pts)" in shown


async def test_share_button_posts_the_card_in_channel(socket_app: SocketModeApp):
    stub = socket_app.stub
    response_id = uuid.uuid4().hex
    envelope_id = await stub.socket_send_interaction(
        button_payload(
            "share_in_channel", "role ai-engineer", response_url=stub.response_url(response_id)
        )
    )
    ack = await stub.socket_ack(envelope_id, within=WITHIN)
    assert ack.payload is None  # a button press is acked empty; the card follows
    post = await socket_app.posts_to(response_id)
    assert post.args["response_type"] == "in_channel"
    assert post.args["replace_original"] is False
    assert_valid_message(post.args)
    shown = texts_of(post.args)
    assert "£75,000" in shown
    assert "Production LLM Deployment" in shown
    assert "share_in_channel" not in action_ids(post.args)


async def test_app_reconnects_when_slack_asks_and_answers_on_the_new_socket(
    socket_app: SocketModeApp,
):
    stub = socket_app.stub
    before = len(stub.socket_connections)
    old = stub.socket_connections[-1]
    await stub.socket_disconnect("refresh_requested")
    new = await stub.wait_for_socket(count=before + 1, within=WITHIN)
    assert new is not old
    assert len(stub.calls_to("apps.connections.open")) == before + 1
    card = await socket_app.command("salary ai engineer")
    assert "£75,000" in texts_of(card)
    assert new.received, "the answer came over the new connection"


async def test_app_reconnects_after_a_dropped_connection(socket_app: SocketModeApp):
    stub = socket_app.stub
    before = len(stub.socket_connections)
    await stub.socket_drop()
    new = await stub.wait_for_socket(count=before + 1, within=WITHIN)
    card = await socket_app.command("role ai engineer")
    assert "Production LLM Deployment" in texts_of(card)
    assert any(message.get("payload") == card for message in new.received)


async def test_stopping_closes_the_connection(tmp_path: Path):
    async with SlackStub() as stub:
        settings = settings_for_stub(
            stub, f"sqlite+aiosqlite:///{tmp_path / 'skillgap.db'}", slack_app_token=APP_TOKEN
        )
        task = asyncio.create_task(run_socket_mode(settings))
        try:
            await _connected(stub, task)
        finally:
            await _stop(task)
        assert task.cancelled()
        [connection] = stub.socket_connections
        await stub.wait_for_socket_closed(connection, within=WITHIN)
        assert not connection.open


# -- a token Slack refuses: a clear message, not endless retries -------------------------


async def test_a_refused_app_token_stops_with_a_clear_reason(tmp_path: Path):
    async with SlackStub() as stub:
        stub.fail("apps.connections.open", "invalid_auth")
        settings = settings_for_stub(
            stub, f"sqlite+aiosqlite:///{tmp_path / 'skillgap.db'}", slack_app_token=APP_TOKEN
        )
        with pytest.raises(SocketModeRefused, match=r"\(invalid_auth\).*connections:write"):
            await asyncio.wait_for(run_socket_mode(settings), CONNECT_WITHIN)
        assert len(stub.calls_to("apps.connections.open")) == 1
        assert stub.socket_connections == []


async def test_run_with_a_bot_token_as_app_token_exits_with_advice(tmp_path: Path):
    skillgap = Path(sys.executable).parent / "skillgap"
    async with SlackStub() as stub:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SKILLGAP_"))}
        env.pop("DATABASE_URL", None)
        env.update(
            SKILLGAP_DATABASE_URL=f"sqlite:///{tmp_path / 'skillgap.db'}",
            SLACK_API_URL=stub.api_url,
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_APP_TOKEN="xoxb-pasted-into-the-wrong-variable",
        )
        process = await asyncio.create_subprocess_exec(
            str(skillgap),
            "run",
            cwd=tmp_path,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    output = stdout.decode() + stderr.decode()
    assert process.returncode == 2, output
    assert "SLACK_APP_TOKEN is not an app-level token (those start with xapp-)" in output
    assert "Traceback" not in output
    [refused] = stub.calls_to("apps.connections.open")
    assert refused.token == "xoxb-pasted-into-the-wrong-variable"


async def test_sigterm_lets_acknowledged_answers_finish(tmp_path: Path) -> None:
    """SIGTERM stops Socket Mode the way it stops HTTP mode: no new requests, and the DMs of
    checks already acknowledged still go out (Python's default SIGTERM would end at once)."""
    async with SlackStub() as stub:
        stub.method_latency["chat.postMessage"] = 1.0  # every DM is on its way at the SIGTERM
        settings = settings_for_stub(
            stub,
            f"sqlite+aiosqlite:///{tmp_path / 'skillgap.db'}",
            slack_app_token=APP_TOKEN,
            slack_signing_secret=None,
        )
        before = signal.getsignal(signal.SIGTERM)
        task = asyncio.create_task(run_socket_mode(settings))
        try:
            await _connected(stub, task)
            for number in range(3):
                payload = command_payload(
                    "check python, pytorch for ai engineer",
                    response_url=stub.response_url(f"r{number}"),
                )
                await stub.socket_ack(await stub.socket_send_command(payload), within=WITHIN)
            # Sent to this very process: only safe once run_socket_mode has caught SIGTERM.
            assert signal.getsignal(signal.SIGTERM) not in (before, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
            await asyncio.wait_for(task, WITHIN)
        finally:
            if not task.done():
                await _stop(task)
        assert len([call for call in stub.calls_to("chat.postMessage") if call.ok]) == 3
        assert signal.getsignal(signal.SIGTERM) == before  # the handler is gone again
