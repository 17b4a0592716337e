"""The app factory: one AsyncApp with its Web API client, auth mode, middleware, error handler."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bolt_compat import SharedSessionRespond, acknowledged_work, use_prompt_ack_runner
from bot.fallback import unhandled_response
from bot.metrics import SlackMetrics
from bot.registry import FEATURE_MODULES, Feature, register_features
from bot.request_guard import StrictRequestVerification
from bot.shutdown import finish_in_flight
from db.engine import insert_ignoring_duplicates
from db.installations import installation_store
from db.market import MarketReader
from db.services import SERVICES_KEY, Services
from db.settings import Settings
from db.slack_models import OAUTH_STATES_TABLE, ProcessedEvent

logger = logging.getLogger(__name__)

# What the app asks for when a workspace installs it (kept in step with manifest.yml).
BOT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "im:write",
    "files:write",
    "users:read",
    "channels:read",
    "groups:read",
    "channels:history",
    "groups:history",
)

FRIENDLY_ERROR = (
    "Sorry, SkillGap hit a problem while answering that. It has been logged; "
    "please try again in a moment, or try `/skillgap help`."
)

# Slack retries an event for up to a few minutes; a day of memory is ample.
PROCESSED_EVENT_MEMORY = timedelta(days=1)
_PRUNE_EVERY = 200


def build_app(
    settings: Settings,
    engine: AsyncEngine,
    *,
    market: MarketReader | None = None,
    metrics: SlackMetrics | None = None,
    features: tuple[Feature, ...] = FEATURE_MODULES,
    process_before_response: bool = False,
) -> AsyncApp:
    """The SkillGap Slack app. Call it inside a running event loop (it opens an HTTP session)."""
    client = AsyncWebClient(
        token=settings.slack_bot_token if not settings.has_oauth_credentials else None,
        base_url=settings.slack_api_url,
        # One session for every Web API call; Bolt hands it to each per-request client.
        session=aiohttp.ClientSession(),
        retry_handlers=[
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )
    oauth_flow = _oauth_flow(settings, engine, client) if settings.has_oauth_credentials else None
    app = AsyncApp(
        name="skillgap",
        client=client,
        signing_secret=settings.slack_signing_secret,
        oauth_flow=oauth_flow,
        process_before_response=process_before_response,
        # Unhandled requests reach the error handler, which answers them politely.
        raise_error_for_unhandled_request=True,
        # Bolt's verification turns an unparsable timestamp into an error (which reaches the
        # error handler); the strict one refuses every unverifiable request with a 401.
        request_verification_enabled=False,
        before_authorize=StrictRequestVerification(settings.slack_signing_secret),
    )
    use_prompt_ack_runner(app)

    services = Services(settings, engine, market or MarketReader(engine))
    response_url_base = settings.slack_response_url_base
    app.use(ProvideServices(services, client, response_url_base))
    app.use(SkipRepeatedEvents(engine))
    app.error(_error_handler(metrics, client, response_url_base))
    register_features(app, features)
    return app


async def close_app(app: AsyncApp, *, grace_seconds: float = 0.0) -> None:
    """Release what build_app opened (the shared HTTP session), once the answers already
    acknowledged are sent or `grace_seconds` have passed (what is left is logged, cancelled)."""
    await finish_in_flight(lambda: acknowledged_work(app), grace_seconds)
    session = app.client.session
    if session is not None and not session.closed:
        await session.close()


def _oauth_flow(settings: Settings, engine: AsyncEngine, client: AsyncWebClient) -> AsyncOAuthFlow:
    client_id = settings.slack_client_id or ""
    oauth_settings = AsyncOAuthSettings(
        client_id=client_id,
        client_secret=settings.slack_client_secret,
        scopes=list(BOT_SCOPES),
        install_path="/slack/install",
        redirect_uri_path="/slack/oauth_redirect",
        # Tables come from the Alembic migration, on the store's own database.
        installation_store=installation_store(settings, engine),
        state_store=AsyncSQLAlchemyOAuthStateStore(
            expiration_seconds=600, engine=engine, table_name=OAUTH_STATES_TABLE
        ),
    )
    return AsyncOAuthFlow(client=client, settings=oauth_settings)


class ProvideServices(AsyncMiddleware):
    """Gives every request the services and a `respond()` over the app's HTTP session.

    A Bolt middleware class rather than a function: a function's arguments are worked out
    by inspection on every request, which costs more than what this does.
    """

    def __init__(
        self, services: Services, client: AsyncWebClient, response_url_base: str | None
    ) -> None:
        self.services = services
        self.client = client
        self.response_url_base = response_url_base

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        context = req.context
        context[SERVICES_KEY] = self.services
        session = self.client.session
        if context.response_url is not None and session is not None:
            context["respond"] = SharedSessionRespond(
                response_url=context.response_url,
                session=session,
                extra_base=self.response_url_base,
            )
        return await next()


class SkipRepeatedEvents(AsyncMiddleware):
    """Acknowledges Slack's retries of an event already processed (by any web process)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.inserted = 0

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        body = req.body
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if not isinstance(event_id, str) or not event_id:
            return await next()
        first_time = await record_event(self.engine, event_id, str(body.get("team_id") or ""))
        self.inserted += 1
        if self.inserted % _PRUNE_EVERY == 0:
            await prune_processed_events(self.engine)
        if not first_time:
            logger.info("event %s already processed; acknowledging Slack's retry", event_id)
            return BoltResponse(status=200, body="")
        return await next()


async def record_event(engine: AsyncEngine, event_id: str, team_id: str) -> bool:
    """Note an event as processed; False when it already was (any web process saw it)."""
    values = {
        "event_id": event_id[:64],
        "team_id": team_id[:32],
        "received_at": datetime.now(UTC),
    }
    table = ProcessedEvent.__table__  # type: ignore[attr-defined]
    statement = insert_ignoring_duplicates(table, engine.dialect.name, "event_id").values(values)
    async with engine.begin() as connection:
        result = await connection.execute(statement)
    return bool(result.rowcount)


async def prune_processed_events(engine: AsyncEngine) -> None:
    cutoff = datetime.now(UTC) - PROCESSED_EVENT_MEMORY
    table = ProcessedEvent.__table__  # type: ignore[attr-defined]
    async with engine.begin() as connection:
        await connection.execute(delete(table).where(table.c.received_at < cutoff))


def guarded_respond(
    respond: Any, client: AsyncWebClient, response_url_base: str | None
) -> SharedSessionRespond | None:
    """The request's `respond`, as one that shares the app's session and posts only to Slack."""
    if isinstance(respond, SharedSessionRespond):
        return respond
    url = getattr(respond, "response_url", None)
    if not url or client.session is None:
        return None
    return SharedSessionRespond(
        response_url=url, session=client.session, extra_base=response_url_base
    )


def _error_handler(
    metrics: SlackMetrics | None, client: AsyncWebClient, response_url_base: str | None
) -> Any:
    async def handle_error(
        error: Exception,
        body: dict[str, Any],
        ack: AsyncAck,
        respond: Any,
        request: AsyncBoltRequest,
        response: BoltResponse | None,
    ) -> BoltResponse | None:
        if isinstance(error, BoltUnhandledRequestError):
            logger.info("no listener for this request; answering it with the fallback")
            return unhandled_response(body)
        # The trace goes to the log only; the person sees a short, friendly message.
        logger.error("Slack request failed: %s", error, exc_info=error)
        if metrics is not None:
            metrics.error(body)
        guarded = guarded_respond(respond, client, response_url_base)
        return await friendly_failure(body, ack, guarded, response)

    return handle_error


async def friendly_failure(
    body: dict[str, Any],
    ack: AsyncAck | None,
    respond: SharedSessionRespond | None,
    response: BoltResponse | None,
) -> BoltResponse | None:
    """What Slack gets after an unhandled error: the ack if one was given, else an apology."""
    already_acked = ack is not None and ack.response is not None
    if respond is not None and not respond.may_post:
        logger.warning("not telling the user about a failure: the response_url is not Slack's")
        respond = None
    if response is None or already_acked:
        # The answer is already on its way (or gone): tell the person through response_url.
        if respond is not None:
            try:
                await respond(
                    text=FRIENDLY_ERROR, response_type="ephemeral", replace_original=False
                )
            except Exception:
                logger.exception("could not tell the user about a failure")
        if response is not None and ack is not None and ack.response is not None:
            # An exception just after ack() must not turn the given answer into a 500.
            return ack.response
        return None
    if "command" in body:
        return BoltResponse(
            status=200,
            body=json.dumps({"response_type": "ephemeral", "text": FRIENDLY_ERROR}),
            headers={"content-type": "application/json;charset=utf-8"},
        )
    if body.get("type") in ("block_actions", "shortcut", "message_action") and respond is not None:
        try:
            await respond(text=FRIENDLY_ERROR, response_type="ephemeral", replace_original=False)
        except Exception:
            logger.exception("could not tell the user about a failure")
    # Events and interactions: acknowledge, so Slack does not retry a request that fails.
    return BoltResponse(status=200, body="")
