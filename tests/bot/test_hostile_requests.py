"""Hostile requests against the real ASGI app over real HTTP (uvicorn), with the Slack stub and
a recording server standing in for any address a request might name: unverifiable signatures,
malformed bodies, oversized bodies and replays get 401/400/413/200-and-nothing, and no
outbound call is ever made."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import FRIENDLY_ERROR
from bot.request_guard import SIGNATURE_CHECKED
from bot.slack_requests import (
    FORM,
    JSON,
    block_actions_body,
    event_body,
    signed_headers,
    signed_request,
    slash_command_body,
)
from bot.slack_stub import SlackStub
from bot.web import SkillGapWeb
from tests.bot import standin
from tests.slack_helpers import SIGNING_SECRET, running_app, serving, settings_for_stub

STANDIN = (standin,)
BODY_LIMIT = 64 * 1024

# Every form of X-Slack-Request-Timestamp that is not plain Unix seconds, and a missing one.
BAD_TIMESTAMPS = ["abc", "0x10", "", "1e9", "-1", "+1", " 1", "1_0", "1.5", None]


@dataclass
class Recorder:
    """An HTTP server that records every request to any path: the attacker's "internal" URL."""

    requests: list[tuple[str, str]] = field(default_factory=list)
    url: str = ""

    async def record(self, request: web.Request) -> web.Response:
        self.requests.append((request.method, request.path))
        return web.Response(text="ok")


@pytest.fixture
async def recorder() -> AsyncIterator[Recorder]:
    found = Recorder()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", found.record)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    found.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield found
    finally:
        await runner.cleanup()


@pytest.fixture
async def server(sqlite_engine: AsyncEngine, stub: SlackStub) -> AsyncIterator[str]:
    """The whole app (every feature) over HTTP, with a small body limit."""
    url = sqlite_engine.url.render_as_string(hide_password=False)
    settings = settings_for_stub(stub, url, max_body_bytes=BODY_LIMIT)
    async with serving(SkillGapWeb(settings, engine=sqlite_engine)) as base_url:
        yield base_url


async def post(base_url: str, body: bytes | str, headers: dict[str, str]) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{base_url}/slack/events", data=body, headers=headers) as response,
    ):
        return response.status, await response.text()


async def metrics_of(base_url: str) -> str:
    async with aiohttp.ClientSession() as session, session.get(f"{base_url}/metrics") as response:
        return await response.text()


async def assert_nothing_went_out(stub: SlackStub, recorder: Recorder) -> None:
    await asyncio.sleep(0.3)  # anything wrongly started would have called out by now
    assert stub.calls == []
    assert recorder.requests == []


def payload_form(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def interaction(kind: str, response_url: str) -> str:
    """A payload of `kind` whose response URL is `response_url`."""
    team = {"id": "T0STUB", "domain": "x"}
    user = {"id": "U0TESTER", "team_id": "T0STUB"}
    if kind == "command":
        return slash_command_body("role ai engineer", response_url=response_url)
    if kind == "block_actions":
        action = {"action_id": "share_in_channel", "type": "button", "value": "role"}
        return block_actions_body([action], response_url=response_url)
    if kind in ("shortcut", "message_action"):
        payload = {
            "type": kind,
            "callback_id": "anything",
            "trigger_id": "1.2",
            "team": team,
            "user": user,
            "response_url": response_url,
            "channel": {"id": "C0GENERAL"},
        }
        return payload_form(payload)
    assert kind == "view_submission"
    view = {"id": "V1", "type": "modal", "callback_id": "anything", "state": {"values": {}}}
    submission: dict[str, Any] = {
        "type": "view_submission",
        "team": team,
        "user": user,
        "view": view,
        "response_urls": [
            {"block_id": "b", "action_id": "a", "channel_id": "C0", "response_url": response_url}
        ],
    }
    return payload_form(submission)


def sign(timestamp: str, body: bytes | str, secret: str = SIGNING_SECRET) -> str:
    raw = body.encode() if isinstance(body, str) else body
    message = b"v0:" + timestamp.encode() + b":" + raw
    return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


KINDS = ["command", "block_actions", "shortcut", "message_action", "view_submission"]


@pytest.mark.parametrize("kind", KINDS)
async def test_an_unparsable_timestamp_is_refused_and_nothing_goes_out(
    server: str, stub: SlackStub, recorder: Recorder, kind: str
) -> None:
    body = interaction(kind, f"{recorder.url}/internal/admin")
    statuses = {}
    for timestamp in BAD_TIMESTAMPS:
        for signature in ("v0=" + "0" * 64, sign(timestamp or "", body)):
            headers = {"content-type": FORM, "x-slack-signature": signature}
            if timestamp is not None:
                headers["x-slack-request-timestamp"] = timestamp
            status, text = await post(server, body, headers)
            statuses[(timestamp, signature[:8])] = status
            assert FRIENDLY_ERROR not in text
    assert set(statuses.values()) == {401}, statuses
    await assert_nothing_went_out(stub, recorder)
    metrics = await metrics_of(server)
    assert f'skillgap_slack_rejected_total{{reason="unverified"}} {len(statuses)}.0' in metrics
    assert "skillgap_slack_errors_total{" not in metrics


@pytest.mark.parametrize(
    "signature",
    ["", "v0=", "v1=" + "a" * 64, "v0=" + "A" * 64, "v0=" + "é" * 32, "v0=" + "ÿ" * 64],
    ids=["empty", "no digest", "v1", "upper case", "non-ASCII short", "non-ASCII"],
)
async def test_a_malformed_signature_is_refused(
    server: str, stub: SlackStub, recorder: Recorder, signature: str
) -> None:
    body = interaction("block_actions", f"{recorder.url}/x")
    headers = signed_headers(SIGNING_SECRET, body)
    headers["x-slack-signature"] = signature
    # Raw header bytes: aiohttp would refuse to send some of these itself.
    status = await raw_post(server, body.encode(), headers)
    assert status == 401
    await assert_nothing_went_out(stub, recorder)


async def raw_post(base_url: str, body: bytes, headers: dict[str, str], **extra: str) -> int:
    """POST over a bare socket, header bytes exactly as given (latin-1), no client checks."""
    parts = urlsplit(base_url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        lines = [
            "POST /slack/events HTTP/1.1",
            f"host: {parts.netloc}",
            "connection: close",
            *(f"{name}: {value}" for name, value in {**headers, **extra}.items()),
        ]
        if "content-length" not in extra:
            lines.append(f"content-length: {len(body)}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await writer.drain()
        status_line = await reader.readline()
        return int(status_line.split()[1])
    finally:
        writer.close()


def malformed_bodies(recorder_url: str) -> Iterator[tuple[str, bytes, str]]:
    """(name, body, content type) for every malformed body the review found."""
    view_without_type = {
        "type": "view_submission",
        "team": {"id": "T0STUB"},
        "user": {"id": "U0TESTER"},
        "view": {"id": "V1", "callback_id": "check", "state": {"values": {}}},
        "response_urls": [{"response_url": f"{recorder_url}/view"}],
    }
    yield "not UTF-8", b"command=%2Fskillgap&text=\xff\xfe\xfa", FORM
    yield "not UTF-8 JSON", b'{"type": "event_callback", "x": "\xff"}', JSON
    yield "a JSON array", b"[1, 2, 3]", JSON
    yield "a JSON string", b'"event_callback"', JSON
    yield "payload is an array", urlencode({"payload": "[1]"}).encode(), FORM
    yield "payload is a string", urlencode({"payload": '"x"'}).encode(), FORM
    yield "payload is not JSON", urlencode({"payload": "{oops"}).encode(), FORM
    yield "a form body sent as JSON", slash_command_body("role").encode(), JSON
    yield "a view without type", payload_form(view_without_type).encode(), FORM
    yield "team is a number", payload_form({"type": "block_actions", "team": 7}).encode(), FORM
    yield (
        "a button press without actions",
        payload_form({"type": "block_actions", "actions": []}).encode(),
        FORM,
    )
    yield "JSON nested 50,000 deep", b"[" * 50_000, JSON
    yield (
        "an event that is text",
        json.dumps({"type": "event_callback", "event": "x"}).encode(),
        JSON,
    )


async def test_malformed_bodies_get_400_in_one_log_line_and_unsigned_ones_401(
    server: str, stub: SlackStub, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    for name, body, content_type in malformed_bodies(recorder.url):
        caplog.clear()
        with caplog.at_level(logging.INFO):
            stamp = str(int(time.time()))
            headers = {
                "content-type": content_type,
                "x-slack-request-timestamp": stamp,
                "x-slack-signature": sign(stamp, body),
            }
            status, text = await post(server, body, headers)
            assert status == 400, (name, status, text)
            assert "Traceback" not in text
            refusals = [r for r in caplog.records if r.name == "bot.web"]
            assert len(refusals) == 1, name
            assert "\n" not in refusals[0].getMessage() and refusals[0].exc_info is None
            assert not [r for r in caplog.records if r.levelno >= logging.ERROR], name

            unsigned = {**headers, "x-slack-signature": sign(stamp, body, "guessed")}
            status, _ = await post(server, body, unsigned)
            assert status == 401, name
    await assert_nothing_went_out(stub, recorder)
    metrics = await metrics_of(server)
    assert "skillgap_slack_errors_total{" not in metrics


async def test_an_oversized_body_is_refused_by_its_declared_length_before_it_is_sent(
    server: str, stub: SlackStub, recorder: Recorder
) -> None:
    # Claims 200 MB, sends a few bytes: the answer comes without waiting for the rest.
    headers = {"content-type": FORM, "x-slack-request-timestamp": "abc"}
    async with asyncio.timeout(5):
        status = await raw_post(server, b"x" * 100, headers, **{"content-length": "209715200"})
    assert status == 413
    await assert_nothing_went_out(stub, recorder)


async def test_an_oversized_streamed_body_is_refused_while_it_arrives(
    server: str, stub: SlackStub, recorder: Recorder
) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(4 * BODY_LIMIT // 1024):
            sent += 1024
            yield b"x" * 1024
            await asyncio.sleep(0)

    # Chunked: no Content-Length, so the limit is enforced while counting what arrives.
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{server}/slack/events", data=chunks(), headers={"content-type": FORM}
        ) as response,
    ):
        assert response.status == 413
    await assert_nothing_went_out(stub, recorder)


async def test_the_body_limit_stops_reading_at_the_first_chunk_past_it(
    sqlite_engine: AsyncEngine, stub: SlackStub
) -> None:
    """At the ASGI level: how many chunks the app pulls before answering 413."""
    url = sqlite_engine.url.render_as_string(hide_password=False)
    web_app = SkillGapWeb(settings_for_stub(stub, url, max_body_bytes=10_000), engine=sqlite_engine)
    pulled = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * 1000, "more_body": pulled < 50}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/slack/events",
        "query_string": b"",
        "headers": [(b"content-type", FORM.encode())],
    }
    try:
        await web_app(scope, receive, send)
    finally:
        await web_app.shutdown()
    assert sent[0]["status"] == 413
    assert pulled == 11  # 11,000 bytes is the first count past 10,000


async def test_an_unsigned_request_to_the_app_itself_is_a_plain_401(
    sqlite_engine: AsyncEngine, recorder: Recorder
) -> None:
    """The app's own check (the shell, tests and any other adapter go straight to Bolt)."""
    async with running_app(sqlite_engine, features=STANDIN) as harness:
        for timestamp in BAD_TIMESTAMPS:
            body = interaction("block_actions", f"{recorder.url}/internal")
            request = signed_request(SIGNING_SECRET, body)
            request.headers["x-slack-request-timestamp"] = [timestamp or ""]
            request.headers["x-slack-signature"] = [sign(timestamp or "", body)]
            response = await harness.app.async_dispatch(request)
            assert response.status == 401
        await assert_nothing_went_out(harness.stub, recorder)
        [errors] = harness.metrics.errors.collect()
        assert errors.samples == []


async def test_a_body_cannot_claim_its_signature_was_checked(
    sqlite_engine: AsyncEngine, recorder: Recorder
) -> None:
    """HTTP mode's door marks a request it verified so the app does not verify it twice; a
    request naming that mark itself, as a form field or in JSON, is still checked and refused."""
    command = interaction("command", f"{recorder.url}/claimed")
    claimed = {"type": "block_actions", SIGNATURE_CHECKED: True, "actions": [{"action_id": "a"}]}
    bodies = (f"{command}&{SIGNATURE_CHECKED}=True", json.dumps(claimed))
    async with running_app(sqlite_engine, features=STANDIN) as harness:
        for body in bodies:
            guessed = signed_request("guessed", body)
            assert guessed.body[SIGNATURE_CHECKED] in ("True", True)
            response = await harness.app.async_dispatch(guessed)
            assert response.status == 401, body
        await assert_nothing_went_out(harness.stub, recorder)


async def test_answers_are_never_posted_to_a_response_url_that_is_not_slacks(
    sqlite_engine: AsyncEngine, recorder: Recorder
) -> None:
    """Even a correctly signed request cannot make the app post somewhere else."""
    async with running_app(sqlite_engine, features=STANDIN) as harness:
        for text in ("later", "late-boom"):
            body = slash_command_body(text, response_url=f"{recorder.url}/internal")
            await harness.app.async_dispatch(signed_request(SIGNING_SECRET, body))
        body = interaction("block_actions", f"{recorder.url}/internal")
        await harness.app.async_dispatch(signed_request(SIGNING_SECRET, body))
        await asyncio.sleep(0.3)
        assert recorder.requests == []
        assert harness.stub.responses_to() == []
        # The stub's own response URLs (the configured base) still get their answers.
        answer = await harness.command("later")
        assert [post.args["text"] for post in answer.response_url_posts] == [
            "Here is your later answer"
        ]


async def test_a_replayed_request_runs_once_whichever_web_process_it_reaches(
    engine: AsyncEngine, stub: SlackStub, recorder: Recorder
) -> None:
    """Two web processes on one store (SQLite and PostgreSQL): the replay is answered 200 and
    runs nothing, on either of them."""
    url = engine.url.render_as_string(hide_password=False)
    settings = settings_for_stub(stub, url)
    first_web = SkillGapWeb(settings, engine=engine, features=STANDIN)
    second_web = SkillGapWeb(settings, engine=engine, features=STANDIN)
    async with serving(first_web) as first, serving(second_web) as second:
        body = slash_command_body("dm", response_url=stub.response_url("r"))
        headers = signed_headers(SIGNING_SECRET, body)
        assert await post(first, body, headers) == (200, "Sent you a DM")
        await stub.wait_for("chat.postMessage")
        for base_url in (first, second, first):
            assert await post(base_url, body, headers) == (200, "")
        await asyncio.sleep(0.3)
        assert len(stub.calls_to("chat.postMessage")) == 1
        assert 'skillgap_slack_rejected_total{reason="replay"} 2.0' in await metrics_of(first)

        # The same words sent again by Slack (a new request, a new signature) do run.
        later = signed_headers(SIGNING_SECRET, body, timestamp=int(time.time()) + 1)
        assert await post(second, body, later) == (200, "Sent you a DM")
        await stub.wait_for(lambda _: len(stub.calls_to("chat.postMessage")) == 2)
    assert recorder.requests == []


async def test_slacks_own_retries_keep_their_handling(
    sqlite_engine: AsyncEngine, stub: SlackStub
) -> None:
    """A retry is signed afresh by Slack: it passes the replay check and the event id (as
    before) keeps it from running twice."""
    url = sqlite_engine.url.render_as_string(hide_password=False)
    web_app = SkillGapWeb(settings_for_stub(stub, url), engine=sqlite_engine, features=STANDIN)
    async with serving(web_app) as base_url:
        body = event_body({"type": "app_mention", "channel": "C0GENERAL", "user": "U1"})
        first = signed_headers(SIGNING_SECRET, body, content_type=JSON)
        assert (await post(base_url, body, first))[0] == 200
        await stub.wait_for("chat.postMessage")
        retry = signed_headers(
            SIGNING_SECRET, body, timestamp=int(time.time()) + 1, content_type=JSON
        )
        retry |= {"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"}
        assert await post(base_url, body, retry) == (200, "")
        await asyncio.sleep(0.3)
        assert len(stub.calls_to("chat.postMessage")) == 1
        metrics = await metrics_of(base_url)
    assert 'reason="replay"' not in metrics  # the retry was not taken for a replay
