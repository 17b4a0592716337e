"""What the app answers to requests no feature handles: a hint for commands, an ack for the rest."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.response import BoltResponse

UNKNOWN_COMMAND = (
    "I didn't understand that. Try `/skillgap help` to see what SkillGap can tell you."
)


def unhandled_response(body: dict[str, Any]) -> BoltResponse:
    """A 200 for Slack (never a 404, which Slack shows as an error or retries)."""
    if "command" in body:
        return BoltResponse(
            status=200,
            body=json.dumps({"response_type": "ephemeral", "text": UNKNOWN_COMMAND}),
            headers={"content-type": "application/json;charset=utf-8"},
        )
    return BoltResponse(status=200, body="")
