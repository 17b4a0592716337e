"""Stand-ins for buttons whose feature has not landed yet, so pressing them still answers.

Registered after every feature (see bot/registry.py): the real listener, once its module is
listed earlier, matches first and these never run.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from templates import render_message


def register(app: AsyncApp) -> None:
    async def skills_check_coming(
        ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        if body.get("response_url"):  # buttons in messages; the Home tab has no response_url
            message = render_message("coming_soon.j2", feature="skills check")
            await respond(**message.as_kwargs(), response_type="ephemeral", replace_original=False)

    app.action("open_skills_check")(skills_check_coming)
