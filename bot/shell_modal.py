"""The shell's `:submit`: fill the open modal's inputs as a person would, and submit it.

`:submit check_skills=python, pytorch; check_role=ai engineer; check_save=yes` sets each named
input (by block id); inputs not named keep their initial values. Words typed for an external
select are looked up through the app's own options listener, as Slack's type-ahead does.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from bot.slack_requests import SlackUser

SELECTS = ("static_select", "external_select")
MULTI_SELECTS = ("multi_static_select", "multi_external_select")
TRUE_WORDS = frozenset({"yes", "y", "true", "on", "1", "tick", "ticked", "checked"})

# Asks the app for the options an external select offers for some typed words.
OptionsLookup = Callable[[dict[str, Any], str, str], Awaitable[list[dict[str, Any]]]]


def parse_fields(argument: str) -> dict[str, str]:
    """ "check_skills=python, k8s; check_save=yes" -> {"check_skills": "python, k8s", …}."""
    fields: dict[str, str] = {}
    for part in argument.split(";"):
        name, equals, value = part.partition("=")
        if equals and name.strip():
            fields[name.strip()] = value.strip()
    return fields


def input_blocks(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        block
        for block in view.get("blocks") or []
        if isinstance(block, dict) and block.get("type") == "input"
    ]


async def submitted_state(
    view: dict[str, Any], fields: dict[str, str], lookup: OptionsLookup
) -> tuple[dict[str, Any], list[str]]:
    """The view's `state.values` after filling `fields`, and what could not be filled."""
    values: dict[str, Any] = {}
    problems = [
        f"no input called {name!r}"
        for name in fields
        if name not in {b.get("block_id") for b in input_blocks(view)}
    ]
    for block in input_blocks(view):
        element = block.get("element") or {}
        block_id, action_id = str(block.get("block_id")), str(element.get("action_id"))
        kind = str(element.get("type"))
        typed = fields.get(block_id)
        value: dict[str, Any] = {"type": kind}
        if kind == "plain_text_input":
            value["value"] = typed if typed is not None else element.get("initial_value")
        elif kind in SELECTS:
            option = element.get("initial_option")
            if typed is not None:
                found = await _options_for(element, block_id, typed, view, lookup)
                option = found[0] if found else None
                if option is None:
                    problems.append(f"nothing in {block_id!r} matches {typed!r}")
            value["selected_option"] = option
        elif kind in MULTI_SELECTS:
            options = list(element.get("initial_options") or [])
            if typed is not None:
                options = []
                for word in (w.strip() for w in typed.split(",") if w.strip()):
                    found = await _options_for(element, block_id, word, view, lookup)
                    if found:
                        options.append(found[0])
                    else:
                        problems.append(f"nothing in {block_id!r} matches {word!r}")
            value["selected_options"] = options
        elif kind == "checkboxes":
            options = list(element.get("initial_options") or [])
            if typed is not None:
                ticked = typed.lower() in TRUE_WORDS
                options = list(element.get("options") or []) if ticked else []
            value["selected_options"] = options
        values[block_id] = {action_id: value}
    return values, problems


async def _options_for(
    element: dict[str, Any],
    block_id: str,
    typed: str,
    view: dict[str, Any],
    lookup: OptionsLookup,
) -> list[dict[str, Any]]:
    if element.get("type") in ("external_select", "multi_external_select"):
        return await lookup(view, block_id, typed)
    wanted = typed.lower()
    return [
        option
        for option in element.get("options") or []
        if wanted in str((option.get("text") or {}).get("text", "")).lower()
        or wanted == str(option.get("value", "")).lower()
    ]


def block_suggestion_body(
    view: dict[str, Any], block_id: str, action_id: str, typed: str, user: SlackUser
) -> str:
    """What Slack posts when someone types into an external select."""
    payload = {
        "type": "block_suggestion",
        "team": {"id": user.team_id, "domain": user.team_domain},
        "user": {"id": user.user_id, "username": user.user_name, "team_id": user.team_id},
        "api_app_id": "A0SKILLGAP",
        "token": "legacy-verification-token",
        "block_id": block_id,
        "action_id": action_id,
        "value": typed,
        "action_ts": f"{time.time():.6f}",
        "view": {"id": view.get("id", "V0MODAL"), **view},
        "container": {"type": "view", "view_id": view.get("id", "V0MODAL")},
    }
    return urlencode({"payload": json.dumps(payload)})


def view_id_for(view: dict[str, Any]) -> str:
    return str(view.get("id") or f"V{uuid.uuid4().hex[:10].upper()}")
