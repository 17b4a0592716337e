"""A stand-in feature for the app's own tests: /skillgap answers that exercise the plumbing."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from db.services import services_from

_pending: set[asyncio.Future[None]] = set()


async def skillgap(
    ack: AsyncAck,
    command: dict[str, Any],
    respond: AsyncRespond,
    context: Any,
    client: AsyncWebClient,
) -> None:
    text = command.get("text", "").strip()
    services = services_from(context)
    if text == "boom":
        raise RuntimeError("secret internal detail")
    if text == "late-boom":
        await ack(text="Working on it…")
        raise RuntimeError("secret internal detail after ack")
    if text == "background":
        # Acked now, answered by a task of its own that outlives this listener.
        await ack(text="Working on it…")

        async def finish() -> None:
            await asyncio.sleep(0.6)
            await respond(text="Finally, the answer", response_type="ephemeral")

        _pending.add(asyncio.ensure_future(finish()))
        return
    if text == "later":
        await ack()
        await respond(text="Here is your later answer", response_type="ephemeral")
        return
    if text == "dm":
        await ack(text="Sent you a DM")
        opened = await client.conversations_open(users=command["user_id"])
        await client.chat_postMessage(channel=opened["channel"]["id"], text="Private answer")
        return
    if text == "roles":
        roles = await services.market.list_roles(context.team_id or "")
        titles = ", ".join(role.title for role in roles)
        await ack(response_type="ephemeral", text=f"Roles: {titles}")
        return
    await ack(
        response_type="ephemeral",
        text=f"echo: {text}",
        blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": f"*echo* {text}"}}],
    )


async def app_mention(event: dict[str, Any], client: AsyncWebClient) -> None:
    await client.chat_postMessage(channel=event["channel"], text="mentioned")


def register(app: AsyncApp) -> None:
    app.command("/skillgap")(skillgap)
    app.event("app_mention")(app_mention)
