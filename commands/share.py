"""Buttons that re-run a command: "Share in channel" (posts the card publicly), suggestions,
and "Confirm" (the re-run may then destroy what the question named).

A button's value is a command line built from slugs (`role ai-engineer in London`), never
from anyone's own words, so re-running it cannot carry personal data into a channel.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from commands.router import command_request, router_for
from templates import render_message

SHARE_ACTION = "share_in_channel"
CONFIRM_ACTION = "confirm_command"
# Several suggestion buttons sit in one actions block, so their ids carry a number.
RUN_ACTION = re.compile(r"^run_command(:\d+)?$")


def register(app: AsyncApp) -> None:
    router = router_for(app)

    async def share_in_channel(
        ack: AsyncAck,
        action: dict[str, Any],
        body: dict[str, Any],
        context: Any,
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        request = command_request(str(action.get("value") or ""), body, context, client)
        subcommand = router.find(request.name)
        if subcommand is None or not subcommand.shareable:
            # Only market cards travel to a channel; anything else stays with the person.
            await respond(
                **render_message(
                    "problem.j2", problem="not_shareable", command=request.name
                ).as_kwargs(),
                response_type="ephemeral",
                replace_original=False,
            )
            return
        request = replace(request, shared=True)
        message = await router.answer(request)
        if message is None:
            return
        await respond(
            text=message.text,
            blocks=message.blocks,
            response_type="in_channel",
            replace_original=False,
        )

    def run_command(*, confirmed: bool) -> Any:
        async def on_press(
            ack: AsyncAck,
            action: dict[str, Any],
            body: dict[str, Any],
            context: Any,
            client: AsyncWebClient,
            respond: AsyncRespond,
        ) -> None:
            await ack()
            request = command_request(str(action.get("value") or ""), body, context, client)
            message = await router.answer(replace(request, confirmed=confirmed))
            if message is not None:
                await respond(
                    text=message.text,
                    blocks=message.blocks,
                    response_type="ephemeral",
                    replace_original=True,
                )

        return on_press

    app.action(SHARE_ACTION)(share_in_channel)
    app.action(RUN_ACTION)(run_command(confirmed=False))
    app.action(CONFIRM_ACTION)(run_command(confirmed=True))
