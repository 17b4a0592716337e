"""Requests as Slack sends them (slash commands, interactions, events), signed with a secret.

The local shell drives the app with these, and tests and benchmarks build theirs here too.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.bolt_compat import FormSafeBoltRequest

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@dataclass(frozen=True)
class SlackUser:
    """Who is typing, and where (ids are made up; the stub accepts any)."""

    user_id: str = "U0TESTER"
    user_name: str = "tester"
    team_id: str = "T0STUB"
    team_domain: str = "skillgap-test"
    channel_id: str = "C0GENERAL"
    channel_name: str = "general"
    enterprise_id: str | None = None


def signed_headers(
    signing_secret: str, body: str, *, timestamp: int | None = None, content_type: str = FORM
) -> dict[str, str]:
    """The headers Slack adds: a timestamp and the v0 signature over it and the body."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(signing_secret).generate_signature(timestamp=stamp, body=body)
    assert signature is not None
    return {
        "content-type": content_type,
        "x-slack-request-timestamp": stamp,
        "x-slack-signature": signature,
    }


def slash_command_body(
    text: str,
    *,
    user: SlackUser | None = None,
    command: str = "/skillgap",
    response_url: str = "https://hooks.slack.com/commands/T0STUB/1/none",
    trigger_id: str | None = None,
) -> str:
    user = user or SlackUser()
    fields = {
        "token": "legacy-verification-token",
        "team_id": user.team_id,
        "team_domain": user.team_domain,
        "channel_id": user.channel_id,
        "channel_name": user.channel_name,
        "user_id": user.user_id,
        "user_name": user.user_name,
        "command": command,
        "text": text,
        "api_app_id": "A0SKILLGAP",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or f"{int(time.time())}.{uuid.uuid4().int % 10**9}",
    }
    if user.enterprise_id:
        fields["enterprise_id"] = user.enterprise_id
    return urlencode(fields)


def block_actions_body(
    actions: list[dict[str, Any]],
    *,
    user: SlackUser | None = None,
    response_url: str | None = "https://hooks.slack.com/actions/T0STUB/1/none",
    message: dict[str, Any] | None = None,
    view: dict[str, Any] | None = None,
    container: dict[str, Any] | None = None,
) -> str:
    """A button press (or other block action), as the form field `payload` Slack posts."""
    user = user or SlackUser()
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": user.team_id, "domain": user.team_domain},
        "user": {"id": user.user_id, "username": user.user_name, "team_id": user.team_id},
        "api_app_id": "A0SKILLGAP",
        "token": "legacy-verification-token",
        "trigger_id": f"{int(time.time())}.{uuid.uuid4().int % 10**9}",
        "channel": {"id": user.channel_id, "name": user.channel_name},
        "container": container or {"type": "message", "channel_id": user.channel_id},
        "actions": [
            {"action_ts": f"{time.time():.6f}", "block_id": "block", **action} for action in actions
        ],
    }
    if response_url is not None:
        payload["response_url"] = response_url
    if message is not None:
        payload["message"] = message
    if view is not None:
        payload["view"] = view
    return urlencode({"payload": json.dumps(payload)})


def view_submission_body(view: dict[str, Any], *, user: SlackUser | None = None) -> str:
    """A modal submitted; `view` needs at least callback_id and state.values."""
    user = user or SlackUser()
    payload = {
        "type": "view_submission",
        "team": {"id": user.team_id, "domain": user.team_domain},
        "user": {"id": user.user_id, "username": user.user_name, "team_id": user.team_id},
        "api_app_id": "A0SKILLGAP",
        "trigger_id": f"{int(time.time())}.{uuid.uuid4().int % 10**9}",
        "view": {"id": "V0MODAL", "type": "modal", "team_id": user.team_id, **view},
    }
    return urlencode({"payload": json.dumps(payload)})


def event_body(
    event: dict[str, Any], *, team_id: str = "T0STUB", event_id: str | None = None
) -> str:
    """An Events API delivery (event_callback) carrying `event`."""
    envelope = {
        "token": "legacy-verification-token",
        "team_id": team_id,
        "api_app_id": "A0SKILLGAP",
        "event": {"event_ts": f"{time.time():.6f}", **event},
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:12].upper()}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "team_id": team_id,
                "user_id": "U0SKILLBOT",
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
    }
    return json.dumps(envelope)


def signed_request(
    signing_secret: str,
    body: str,
    *,
    timestamp: int | None = None,
    extra_headers: dict[str, str] | None = None,
) -> AsyncBoltRequest:
    """A Bolt request for `app.async_dispatch`, signed as Slack would sign it."""
    content_type = JSON if body.startswith("{") else FORM
    headers = signed_headers(signing_secret, body, timestamp=timestamp, content_type=content_type)
    headers.update(extra_headers or {})
    return FormSafeBoltRequest(body=body, headers=dict(headers.items()))
