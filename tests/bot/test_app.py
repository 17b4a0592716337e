"""The app factory driven through async_dispatch with signed requests, against the Slack stub."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import FRIENDLY_ERROR, build_app, close_app, record_event
from bot.fallback import UNKNOWN_COMMAND
from bot.slack_requests import SlackUser, signed_request, slash_command_body
from bot.slack_stub import SlackStub
from db.services import SERVICES_KEY, Services
from db.slack_models import ProcessedEvent
from tests.bot import standin
from tests.slack_helpers import SIGNING_SECRET, SlackAppHarness, running_app, settings_for_stub

STANDIN = (standin,)


@pytest.fixture
async def harness(sqlite_engine: AsyncEngine) -> AsyncIterator[SlackAppHarness]:
    async with running_app(sqlite_engine, features=STANDIN) as running:
        yield running


async def test_a_signed_command_is_answered_in_the_ack_body(harness: SlackAppHarness) -> None:
    answer = await harness.command("hello there")
    assert answer.status == 200
    assert answer.ack_body is not None
    assert answer.ack_body["text"] == "echo: hello there"
    assert answer.ack_body["response_type"] == "ephemeral"
    assert answer.ack_body["blocks"][0]["text"]["text"] == "*echo* hello there"


async def test_listeners_receive_the_services(harness: SlackAppHarness) -> None:
    seen: list[Services] = []

    @harness.app.middleware
    async def capture(context, next):
        seen.append(context[SERVICES_KEY])
        await next()

    await harness.command("hi")
    [services] = seen
    assert services.engine is harness.engine
    assert services.settings is harness.settings


async def test_the_web_api_client_uses_the_stub_and_one_shared_session(
    harness: SlackAppHarness,
) -> None:
    first = await harness.command("dm")
    second = await harness.command("dm")
    assert first.ack_body == {"text": "Sent you a DM"}
    [dm] = first.calls_to("chat.postMessage")
    assert dm.args["channel"] == SlackStub.dm_channel_for(harness.user.user_id)
    assert dm.token == "xoxb-test-token"
    assert second.calls_to("chat.postMessage")
    client = harness.app.client
    assert client.base_url == harness.stub.api_url
    assert client.session is not None and not client.session.closed
    kinds = {type(handler).__name__ for handler in client.retry_handlers}
    assert {"AsyncRateLimitErrorRetryHandler", "AsyncServerErrorRetryHandler"} <= kinds


async def test_rate_limited_web_api_calls_are_retried(harness: SlackAppHarness) -> None:
    harness.stub.rate_limit("chat.postMessage", retry_after=0)
    answer = await harness.command("dm")
    statuses = [call.status for call in answer.calls_to("chat.postMessage")]
    assert statuses == [429, 200]


async def test_answers_posted_later_reach_the_response_url(harness: SlackAppHarness) -> None:
    answer = await harness.command("later")
    assert answer.ack_body is None
    [post] = answer.response_url_posts
    assert post.args == {"text": "Here is your later answer", "response_type": "ephemeral"}


async def test_an_error_before_ack_gets_a_friendly_message_and_no_trace(
    harness: SlackAppHarness, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        answer = await harness.command("boom")
    assert answer.status == 200
    assert answer.ack_body == {"response_type": "ephemeral", "text": FRIENDLY_ERROR}
    assert "secret internal detail" not in answer.text
    assert "Traceback" not in answer.text
    assert any(record.exc_info for record in caplog.records)
    assert harness.metrics.errors.labels("command", "other")._value.get() == 1


async def test_an_error_after_ack_keeps_the_ack_and_apologises_via_response_url(
    harness: SlackAppHarness,
) -> None:
    answer = await harness.command("late-boom")
    assert answer.status == 200
    assert answer.ack_body == {"text": "Working on it…"}
    [post] = answer.response_url_posts
    assert post.args["text"] == FRIENDLY_ERROR
    assert "secret internal detail" not in answer.text


async def test_an_error_after_ack_in_process_before_response_mode_keeps_the_ack(
    sqlite_engine: AsyncEngine,
) -> None:
    async with SlackStub() as stub:
        app = build_app(
            settings_for_stub(stub),
            sqlite_engine,
            features=STANDIN,
            process_before_response=True,
        )
        try:
            url = stub.response_url("r1")
            body = slash_command_body("late-boom", response_url=url)
            response = await app.async_dispatch(signed_request(SIGNING_SECRET, body))
            assert response.status == 200
            assert response.body == "Working on it…"
            [post] = await stub.wait_for("response_url")
            assert post.args["text"] == FRIENDLY_ERROR
        finally:
            await close_app(app)


async def test_unknown_commands_get_a_hint_not_a_404(sqlite_engine: AsyncEngine) -> None:
    async with running_app(sqlite_engine, features=()) as bare:
        answer = await bare.command("anything")
        assert answer.status == 200
        assert answer.ack_body == {"response_type": "ephemeral", "text": UNKNOWN_COMMAND}
        unhandled = await bare.press("no_such_button")
        assert unhandled.status == 200
        event = await bare.event({"type": "reaction_added", "user": "U1"})
        assert event.status == 200


@pytest.mark.parametrize(
    "tamper",
    ["forged", "unsigned", "stale"],
)
async def test_bad_signatures_are_refused_and_run_nothing(
    harness: SlackAppHarness, tamper: str
) -> None:
    body = slash_command_body("dm", response_url=harness.stub.response_url("x"))
    if tamper == "forged":
        request = signed_request("not-the-secret", body)
    elif tamper == "stale":
        request = signed_request(SIGNING_SECRET, body, timestamp=int(time.time()) - 6 * 60)
    else:
        request = signed_request(SIGNING_SECRET, body)
        request.headers.pop("x-slack-signature")
        request.headers.pop("x-slack-request-timestamp")
    response = await harness.app.async_dispatch(request)
    await harness.settled()
    assert response.status == 401
    assert harness.stub.calls_to("chat.postMessage") == []
    assert harness.stub.responses_to() == []


async def test_slack_retries_of_an_event_are_processed_once(harness: SlackAppHarness) -> None:
    event = {"type": "app_mention", "user": "U1", "channel": "C1", "text": "<@U0SKILLBOT>"}
    first = await harness.event(event, event_id="Ev0001")
    retry = await harness.event(event, event_id="Ev0001", retry_num=1)
    second_retry = await harness.event(event, event_id="Ev0001", retry_num=2)
    other = await harness.event(event, event_id="Ev0002")
    assert [a.status for a in (first, retry, second_retry, other)] == [200, 200, 200, 200]
    assert len(first.calls_to("chat.postMessage")) == 1
    assert retry.calls_to("chat.postMessage") == []
    assert second_retry.calls_to("chat.postMessage") == []
    assert len(other.calls_to("chat.postMessage")) == 1


async def test_processed_events_are_shared_through_the_store(empty_engine: AsyncEngine) -> None:
    assert await record_event(empty_engine, "EvSHARED", "T1") is True
    assert await record_event(empty_engine, "EvSHARED", "T1") is False
    async with empty_engine.connect() as connection:
        table = ProcessedEvent.__table__  # type: ignore[attr-defined]
        count = await connection.scalar(select(func.count()).select_from(table))
    assert count == 1


async def test_team_id_reaches_listeners_from_the_request(sqlite_engine: AsyncEngine) -> None:
    # Each workspace's request carries its own team id; listeners pass it to the read model.
    async with running_app(
        sqlite_engine, features=STANDIN, user=SlackUser(team_id="T0OTHER")
    ) as other:
        seen: list[str] = []

        @other.app.middleware
        async def capture(context, next):
            seen.append(context.team_id)
            await next()

        answer = await other.command("roles")
        assert seen == ["T0OTHER"]
        assert answer.ack_body is not None
        assert answer.ack_body["text"].startswith("Roles:")


async def test_lazy_listeners_share_the_services_not_copies(harness: SlackAppHarness) -> None:
    seen: list[Services] = []

    async def ack_now(ack) -> None:
        await ack()

    async def later(context, client) -> None:
        seen.append(context[SERVICES_KEY])
        assert client.session is harness.app.client.session
        await client.chat_postMessage(channel="C1", text="from a lazy listener")

    harness.app.command("/lazy")(ack=ack_now, lazy=[later])
    answer = await harness.command("", command="/lazy")
    [services] = seen
    assert services.engine is harness.engine
    assert services.market is not None
    [posted] = answer.calls_to("chat.postMessage")
    assert posted.args["text"] == "from a lazy listener"


async def test_a_command_containing_the_word_payload_reaches_its_listener(
    harness: SlackAppHarness,
) -> None:
    answer = await harness.command("payload")
    assert answer.ack_body is not None
    assert answer.ack_body["text"] == "echo: payload"
