"""Which way to run (Socket Mode, HTTP, or the local shell), chosen from the settings."""

from __future__ import annotations

import asyncio
import logging
import signal
from enum import StrEnum
from typing import TYPE_CHECKING

from db.settings import Settings

if TYPE_CHECKING:
    from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient

logger = logging.getLogger(__name__)


class RunMode(StrEnum):
    SOCKET = "socket"  # an app-level token: Slack delivers over a WebSocket, no public URL
    HTTP = "http"  # Slack posts to /slack/events on this server
    SHELL = "shell"  # no Slack at all: type /skillgap lines locally


class SocketModeRefused(Exception):
    """Slack would not open a Socket Mode connection with the configured app token."""


def explain_refusal(error: str) -> str:
    """What to tell the person running SkillGap when Slack refuses the app token."""
    if error == "not_allowed_token_type":
        return (
            "SLACK_APP_TOKEN is not an app-level token (those start with xapp-). Create one "
            "under Basic Information > App-Level Tokens with the connections:write scope."
        )
    return (
        f"Slack refused to open a Socket Mode connection ({error}). Check SLACK_APP_TOKEN: "
        "an app-level token (xapp-...) with the connections:write scope, for an app with "
        "Socket Mode enabled."
    )


def choose_run_mode(settings: Settings) -> RunMode:
    """Socket Mode when an app token (and a way to authorize) is set, HTTP with Slack
    credentials, else the shell."""
    can_authorize = bool(settings.slack_bot_token) or settings.has_oauth_credentials
    if settings.slack_app_token and can_authorize:
        return RunMode.SOCKET
    if settings.has_slack_credentials:
        return RunMode.HTTP
    return RunMode.SHELL


def describe_missing(settings: Settings) -> str | None:
    """A hint when credentials are half set (so `run` falls back to the shell)."""
    if settings.slack_app_token and not settings.slack_bot_token:
        return "SLACK_APP_TOKEN is set but SLACK_BOT_TOKEN is not; Socket Mode needs both."
    if settings.slack_bot_token and not settings.slack_signing_secret:
        return "SLACK_BOT_TOKEN is set but SLACK_SIGNING_SECRET is not; HTTP mode needs both."
    if settings.slack_client_id and not (
        settings.slack_client_secret and settings.slack_signing_secret
    ):
        return (
            "SLACK_CLIENT_ID is set; OAuth also needs SLACK_CLIENT_SECRET and SLACK_SIGNING_SECRET."
        )
    return None


async def run_socket_mode(settings: Settings, *, run_digests: bool = False) -> None:
    """Connect to Slack over Socket Mode and serve until cancelled (with the digest clock and
    worker in this process when `run_digests`: the embedded single-process setup)."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    from bot.app import build_app, close_app
    from db.engine import create_engine
    from db.startup import prepare
    from db.token_cipher import cipher_from_settings, seal_plaintext_tokens

    cipher = cipher_from_settings(settings)  # OAuth mode needs the token key: asked first
    engine = create_engine(settings.database_url)
    await prepare(engine)
    await seal_plaintext_tokens(engine, cipher)
    app = build_app(settings, engine)
    handler = AsyncSocketModeHandler(app, settings.slack_app_token)
    digests = None
    try:
        # The first URL is asked for here: the client would retry a refused token forever.
        handler.client.wss_uri = await _first_socket_url(handler.client)
        if run_digests:
            from digests.runtime import start_in_process

            digests = start_in_process(settings, engine)
        await handler.connect_async()
        logger.info("SkillGap is connected to Slack over Socket Mode")
        await _until_stopped()
    finally:
        await handler.close_async()  # no new requests; those acknowledged get the grace period
        await close_app(app, grace_seconds=settings.shutdown_grace_seconds)
        if digests is not None:
            await digests.stop()
        await engine.dispose()


async def _until_stopped() -> None:
    """Wait for SIGTERM or SIGINT (or cancellation). Python's default SIGTERM ends the process
    on the spot; caught here, it lets the shutdown wait for answers already acknowledged."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    caught = []
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(signal_number, stop.set)
            caught.append(signal_number)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
            pass
    try:
        await stop.wait()
        logger.info("SkillGap is stopping: no new requests")
    finally:
        for signal_number in caught:
            loop.remove_signal_handler(signal_number)


async def _first_socket_url(client: AsyncBaseSocketModeClient) -> str | None:
    """A WebSocket URL, or None to let the client retry later (Slack unreachable for now)."""
    from aiohttp import ClientError
    from slack_sdk.errors import SlackApiError

    try:
        return await client.issue_new_wss_url()
    except SlackApiError as refused:
        raise SocketModeRefused(explain_refusal(str(refused.response.get("error")))) from None
    except (ClientError, TimeoutError):
        return None
