"""The Slack stub answers like Slack, records calls and fails on request."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.slack_stub import RESPONSE_URL_METHOD, SlackStub
from bot.slack_stub_methods import StubReply, StubRequest


def client_for(stub: SlackStub, *, retries: bool = False, token: str = "xoxb-1") -> AsyncWebClient:
    handlers = (
        [AsyncRateLimitErrorRetryHandler(max_retry_count=2), AsyncServerErrorRetryHandler()]
        if retries
        else []
    )
    return AsyncWebClient(token=token, base_url=stub.api_url, retry_handlers=handlers)


async def test_api_url_is_a_base_url_for_the_web_client(stub: SlackStub) -> None:
    assert stub.api_url.startswith("http://127.0.0.1:")
    assert stub.api_url.endswith("/api/")
    answer = await client_for(stub).auth_test()
    assert answer["team_id"] == "T0STUB"
    assert answer["user_id"] == "U0SKILLBOT"


async def test_records_method_arguments_token_and_time(stub: SlackStub) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Hello*"}}]
    answer = await client_for(stub, token="xoxb-abc").chat_postMessage(
        channel="C123", text="Hello", blocks=blocks
    )
    assert answer["ok"] is True
    assert answer["channel"] == "C123"
    assert answer["ts"]
    [call] = stub.calls_to("chat.postMessage")
    assert call.token == "xoxb-abc"
    assert call.args["channel"] == "C123"
    assert call.args["blocks"] == blocks
    assert call.headers["Authorization"] == "Bearer xoxb-abc"
    assert call.at > 0 and call.monotonic > 0


async def test_form_encoded_arguments_are_read_and_json_fields_decoded(stub: SlackStub) -> None:
    async with aiohttp.ClientSession() as session:
        form = {
            "token": "xoxb-form",
            "channel": "C9",
            "text": "hi",
            "blocks": json.dumps([{"type": "divider"}]),
        }
        async with session.post(f"{stub.api_url}chat.postMessage", data=form) as response:
            assert (await response.json())["ok"] is True
    [call] = stub.calls_to("chat.postMessage")
    assert call.token == "xoxb-form"
    assert call.args["blocks"] == [{"type": "divider"}]
    assert "token" not in call.args


async def test_a_call_without_a_token_is_refused(stub: SlackStub) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{stub.api_url}auth.test") as response,
    ):
        assert (await response.json()) == {"ok": False, "error": "not_authed"}


async def test_answers_the_methods_the_app_uses(stub: SlackStub) -> None:
    client = client_for(stub)
    opened = await client.conversations_open(users="U42")
    assert opened["channel"]["id"] == SlackStub.dm_channel_for("U42") == "D42"
    dm = await client.chat_postMessage(channel="U42", text="hi")
    assert dm["channel"] == "D42"
    ephemeral = await client.chat_postEphemeral(channel="C1", user="U1", text="only you")
    assert ephemeral["message_ts"]
    updated = await client.chat_update(channel="C1", ts=dm["ts"], text="edited")
    assert updated["ts"] == dm["ts"]
    view = {"type": "home", "blocks": [{"type": "divider"}]}
    published = await client.views_publish(user_id="U1", view=view)
    assert published["view"]["type"] == "home"
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": []}
    opened_view = await client.views_open(trigger_id="1.2.3", view=modal)
    again = await client.views_update(view_id=opened_view["view"]["id"], view=modal)
    assert again["view"]["id"] == opened_view["view"]["id"]
    stub.channels["C7"] = {"name": "recruiting", "is_member": False}
    info = await client.conversations_info(channel="C7")
    assert info["channel"]["name"] == "recruiting"
    assert info["channel"]["is_member"] is False
    user = await client.users_info(user="U5")
    assert user["user"]["tz"] == "Europe/London"
    assert [call.method for call in stub.calls] == [
        "conversations.open",
        "chat.postMessage",
        "chat.postEphemeral",
        "chat.update",
        "views.publish",
        "views.open",
        "views.update",
        "conversations.info",
        "users.info",
    ]


async def test_unknown_methods_answer_like_slack(stub: SlackStub) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client_for(stub).api_call("no.such.method")
    assert raised.value.response["error"] == "unknown_method"


async def test_files_upload_v2_works_end_to_end(stub: SlackStub) -> None:
    answer = await client_for(stub).files_upload_v2(
        channel="C1", content=b"\x89PNG chart", filename="chart.png", title="Chart"
    )
    assert answer["ok"] is True
    [upload] = stub.calls_to("file_upload")
    assert stub.uploads[upload.args["file_id"]] == b"\x89PNG chart"
    [complete] = stub.calls_to("files.completeUploadExternal")
    assert complete.args["files"][0]["id"] == upload.args["file_id"]
    assert complete.args["channel_id"] == "C1"


async def test_response_urls_record_what_is_posted(stub: SlackStub) -> None:
    url = stub.response_url("abc")
    response = await AsyncWebhookClient(url).send_dict(
        {"text": "answer", "response_type": "ephemeral"}
    )
    assert response.status_code == 200
    [call] = stub.responses_to("abc")
    assert call.method == RESPONSE_URL_METHOD
    assert call.args == {"text": "answer", "response_type": "ephemeral"}
    assert stub.responses_to("other") == []


async def test_fail_answers_an_error_the_given_number_of_times(stub: SlackStub) -> None:
    stub.fail("chat.postMessage", error="not_in_channel", times=2)
    client = client_for(stub)
    for _ in range(2):
        with pytest.raises(SlackApiError) as raised:
            await client.chat_postMessage(channel="C1", text="x")
        assert raised.value.response["error"] == "not_in_channel"
    assert (await client.chat_postMessage(channel="C1", text="x"))["ok"] is True
    assert [call.ok for call in stub.calls_to("chat.postMessage")] == [False, False, True]


async def test_rate_limit_sends_429_with_retry_after_and_the_client_retries(
    stub: SlackStub,
) -> None:
    stub.rate_limit("chat.postMessage", retry_after=0, times=1)
    answer = await client_for(stub, retries=True).chat_postMessage(channel="C1", text="x")
    assert answer["ok"] is True
    first, second = stub.calls_to("chat.postMessage")
    assert first.status == 429
    assert second.status == 200


async def test_rate_limit_without_retries_surfaces_to_the_caller(stub: SlackStub) -> None:
    stub.rate_limit("chat.postMessage", retry_after=7)
    with pytest.raises(SlackApiError) as raised:
        await client_for(stub).chat_postMessage(channel="C1", text="x")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "7"


async def test_server_errors_are_retried_by_the_server_error_handler(stub: SlackStub) -> None:
    stub.server_error("views.publish", status=503, times=1)
    answer = await client_for(stub, retries=True).views_publish(
        user_id="U1", view={"type": "home", "blocks": []}
    )
    assert answer["ok"] is True
    assert [call.status for call in stub.calls_to("views.publish")] == [503, 200]


async def test_latency_delays_answers(stub: SlackStub) -> None:
    stub.set_latency(0.2, method="users.info")
    client = client_for(stub)
    task = asyncio.ensure_future(client.users_info(user="U1"))
    await asyncio.sleep(0.05)
    assert not task.done()
    assert (await task)["ok"] is True


async def test_rules_can_enforce_custom_policies(stub: SlackStub) -> None:
    async def one_message_per_channel(request: StubRequest) -> StubReply | None:
        seen = [c for c in stub.calls_to(request.method) if c.args.get("channel") == "C1"]
        if request.method == "chat.postMessage" and request.args.get("channel") == "C1" and seen:
            return StubReply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "30"})
        return None

    stub.add_rule(one_message_per_channel)
    client = client_for(stub)
    await client.chat_postMessage(channel="C1", text="first")
    await client.chat_postMessage(channel="C2", text="other channel")
    with pytest.raises(SlackApiError):
        await client.chat_postMessage(channel="C1", text="second")


async def test_tokens_map_to_workspaces(stub: SlackStub) -> None:
    stub.add_workspace("T0OTHER", "xoxb-other")
    answer = await client_for(stub, token="xoxb-other").auth_test()
    assert answer["team_id"] == "T0OTHER"
    await client_for(stub, token="xoxb-other").chat_postMessage(channel="C1", text="x")
    assert stub.calls_to("chat.postMessage")[0].team_id == "T0OTHER"


async def test_wait_for_returns_once_the_call_arrives(stub: SlackStub) -> None:
    client = client_for(stub)
    waiter = asyncio.ensure_future(stub.wait_for("chat.postMessage", within=2))
    await asyncio.sleep(0)
    assert not waiter.done()
    await client.chat_postMessage(channel="C1", text="x")
    [call] = await waiter
    assert call.args["text"] == "x"
    with pytest.raises(TimeoutError):
        await stub.wait_for("views.open", within=0.05)


async def test_urls_need_a_started_stub() -> None:
    with pytest.raises(RuntimeError, match="not started"):
        _ = SlackStub().api_url
