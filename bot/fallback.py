"""Last-resort listeners: acknowledge whatever no feature handled, with a hint for commands."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

UNKNOWN_COMMAND = (
    "I didn't understand that. Try `/skillgap help` to see what SkillGap can tell you."
)


async def unknown_command(ack: AsyncAck) -> None:
    await ack(response_type="ephemeral", text=UNKNOWN_COMMAND)


async def acknowledge_only(ack: AsyncAck) -> None:
    await ack()


async def ignore_event(event: dict[str, Any]) -> None:
    # Events are acknowledged by Bolt before this runs; nothing else to do.
    return None


def register(app: AsyncApp) -> None:
    anything = re.compile(".*")
    app.command(anything)(unknown_command)
    app.action(anything)(acknowledge_only)
    app.view(anything)(acknowledge_only)
    app.shortcut(anything)(acknowledge_only)
    app.event(anything)(ignore_event)
