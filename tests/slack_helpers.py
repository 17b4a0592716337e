"""Test helpers for driving the real Slack app: signed requests and an app wired to the stub.

Use the `slack_app` fixture (tests/conftest.py exposes it) or `running_app(engine)`:

    async def test_role_card(slack_app: SlackAppHarness) -> None:
        answer = await slack_app.command("role ai engineer")
        assert "£75,000" in answer.text

`answer` gathers everything the app sent back for that request: the ack body, what was
POSTed to the request's response_url, and the Web API calls made meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_app, close_app
from bot.metrics import SlackMetrics
from bot.registry import FEATURE_MODULES, Feature
from bot.shell import wait_until_answered
from bot.slack_requests import (
    SlackUser,
    block_actions_body,
    event_body,
    signed_headers,
    signed_request,
    slash_command_body,
    view_submission_body,
)
from bot.slack_stub import RESPONSE_URL_METHOD, RecordedCall, SlackStub
from bot.web import SkillGapWeb
from db.settings import Settings

__all__ = [
    "SIGNING_SECRET",
    "Answer",
    "SlackAppHarness",
    "SlackUser",
    "block_actions_body",
    "event_body",
    "running_app",
    "serving",
    "settings_for_stub",
    "signed_headers",
    "signed_request",
    "slash_command_body",
    "view_submission_body",
]

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"


def settings_for_stub(
    stub: SlackStub, database_url: str = "sqlite+aiosqlite://", **overrides: Any
) -> Settings:
    """Single-workspace settings pointing the Web API client at `stub`."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_app_token": None,
        "slack_client_id": None,
        "slack_client_secret": None,
        "slack_api_url": stub.api_url,
        "slack_response_url_base": stub.root_url,
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class Answer:
    """What the app sent back for one request."""

    response: BoltResponse
    response_url_posts: list[RecordedCall] = field(default_factory=list)
    api_calls: list[RecordedCall] = field(default_factory=list)

    @property
    def status(self) -> int:
        return self.response.status

    @property
    def ack_body(self) -> dict[str, Any] | None:
        """The ack body as JSON, or None when the ack was empty."""
        body = self.response.body
        if not body:
            return None
        try:
            parsed = json.loads(body)
        except ValueError:
            return {"text": body}
        return parsed if isinstance(parsed, dict) else {"text": body}

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Every message payload, in order: ack body, response_url posts, Web API call args."""
        found = [self.ack_body] if self.ack_body else []
        found += [call.args for call in self.response_url_posts]
        found += [call.args for call in self.api_calls]
        return found

    @property
    def text(self) -> str:
        """All text of the answer (fallback text and blocks), for asserting on content."""
        return "\n".join(json.dumps(message, ensure_ascii=False) for message in self.messages)

    def calls_to(self, method: str) -> list[RecordedCall]:
        return [call for call in self.api_calls if call.method == method]


@dataclass
class SlackAppHarness:
    app: AsyncApp
    stub: SlackStub
    settings: Settings
    engine: AsyncEngine
    metrics: SlackMetrics
    user: SlackUser = field(default_factory=SlackUser)

    async def dispatch(self, body: str, **headers: str) -> BoltResponse:
        return await self.app.async_dispatch(
            signed_request(SIGNING_SECRET, body, extra_headers=headers)
        )

    async def _answer(
        self,
        body: str,
        response_id: str | None,
        settle: Callable[[list[RecordedCall]], bool] | None,
        within: float,
    ) -> Answer:
        first = len(self.stub.calls)
        baseline = asyncio.all_tasks()
        response = await self.dispatch(body)
        if settle is not None:
            await self.stub.wait_for(lambda _: settle(self.stub.calls[first:]), within=within)
        else:
            await wait_until_answered(
                self.stub,
                first,
                baseline,
                answered=bool(response.body),
                quiet=0.05,
                silence=0.3,
                give_up_after=within,
            )
        later = self.stub.calls[first:]
        posts = [
            call
            for call in later
            if call.method == RESPONSE_URL_METHOD and call.response_url_id == response_id
        ]
        api_calls = [call for call in later if call.method != RESPONSE_URL_METHOD]
        return Answer(response, posts, api_calls)

    async def settled(self, quiet: float = 0.05, within: float = 5.0) -> None:
        """Wait until no Web API call or response_url post arrived for `quiet` seconds."""
        async with asyncio.timeout(within):
            while True:
                count = len(self.stub.calls)
                await asyncio.sleep(quiet)
                if len(self.stub.calls) == count:
                    return

    async def command(
        self,
        text: str,
        *,
        user: SlackUser | None = None,
        command: str = "/skillgap",
        until: Callable[[list[RecordedCall]], bool] | None = None,
        within: float = 5.0,
    ) -> Answer:
        """Send a signed slash command; return the ack and what followed it."""
        response_id = uuid.uuid4().hex
        body = slash_command_body(
            text,
            user=user or self.user,
            command=command,
            response_url=self.stub.response_url(response_id),
        )
        return await self._answer(body, response_id, until, within)

    async def press(
        self,
        action_id: str,
        value: str = "",
        *,
        user: SlackUser | None = None,
        message: dict[str, Any] | None = None,
        view: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
        until: Callable[[list[RecordedCall]], bool] | None = None,
        within: float = 5.0,
    ) -> Answer:
        """Press a button (a block action) on a message or in a view."""
        response_id = uuid.uuid4().hex
        action = {"action_id": action_id, "type": "button", "value": value, **(extra or {})}
        body = block_actions_body(
            [action],
            user=user or self.user,
            response_url=self.stub.response_url(response_id),
            message=message,
            view=view,
            container={"type": "view", "view_id": "V0"} if view is not None else None,
        )
        return await self._answer(body, response_id, until, within)

    async def submit(
        self, view: dict[str, Any], *, user: SlackUser | None = None, within: float = 5.0
    ) -> Answer:
        body = view_submission_body(view, user=user or self.user)
        return await self._answer(body, None, None, within)

    async def event(
        self,
        event: dict[str, Any],
        *,
        team_id: str | None = None,
        event_id: str | None = None,
        retry_num: int | None = None,
        within: float = 5.0,
    ) -> Answer:
        body = event_body(event, team_id=team_id or self.user.team_id, event_id=event_id)
        first = len(self.stub.calls)
        baseline = asyncio.all_tasks()
        headers = {}
        if retry_num is not None:
            headers = {"x-slack-retry-num": str(retry_num), "x-slack-retry-reason": "http_timeout"}
        response = await self.dispatch(body, **headers)
        await wait_until_answered(
            self.stub, first, baseline, answered=True, quiet=0.05, give_up_after=within
        )
        return Answer(response, [], self.stub.calls[first:])


@asynccontextmanager
async def serving(web: SkillGapWeb) -> AsyncIterator[str]:
    """Serve `web` with uvicorn on a free loopback port; yields the base URL."""
    config = uvicorn.Config(web, host="127.0.0.1", port=0, lifespan="on", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def running_app(
    engine: AsyncEngine,
    *,
    features: tuple[Feature, ...] = FEATURE_MODULES,
    user: SlackUser | None = None,
    **settings_overrides: Any,
) -> AsyncIterator[SlackAppHarness]:
    """The real app on `engine`, its Web API pointed at a fresh stub."""
    async with SlackStub() as stub:
        url = engine.url.render_as_string(hide_password=False)
        settings = settings_for_stub(stub, url, **settings_overrides)
        metrics = SlackMetrics()
        app = build_app(settings, engine, metrics=metrics, features=features)
        try:
            yield SlackAppHarness(app, stub, settings, engine, metrics, user or SlackUser())
        finally:
            await close_app(app)
