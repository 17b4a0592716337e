"""A stand-in card with a share button, for the shell's button-pressing test."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


async def card(ack: AsyncAck, command: dict[str, Any]) -> None:
    text = command.get("text", "")
    await ack(
        text=text,
        blocks=[
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "share",
                        "value": text,
                        "text": {"type": "plain_text", "text": "Share in channel"},
                    }
                ],
            },
        ],
    )


async def share(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
    await ack()
    value = body["actions"][0]["value"]
    await client.chat_postMessage(channel=body["channel"]["id"], text=f"shared: {value}")


def register(app: AsyncApp) -> None:
    app.command("/skillgap")(card)
    app.action("share")(share)
