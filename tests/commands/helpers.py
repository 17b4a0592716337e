"""Checks shared by the command tests: a reply is valid Block Kit, safe, and says something."""

from __future__ import annotations

import json
import re
from typing import Any

from templates import MAX_BLOCKS, validate_blocks

# What untrusted text must never become in a message: live mentions, broadcasts or links.
_LIVE_MARKUP = re.compile(r"<[!@#]|<https?:|<mailto:", re.IGNORECASE)


def assert_valid_message(message: dict[str, Any]) -> None:
    """Slack would accept it, it has a fallback text, and no untrusted markup is live."""
    assert isinstance(message.get("text"), str) and message["text"].strip(), message
    blocks = message.get("blocks", [])
    assert len(blocks) <= MAX_BLOCKS
    validate_blocks(blocks)
    assert not _LIVE_MARKUP.search(json.dumps(message, ensure_ascii=False)), message


def texts_of(message: dict[str, Any]) -> str:
    """Fallback text and every block text of a message, joined, JSON-escapes undone."""
    parts = [str(message.get("text", ""))]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    parts.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.get("blocks", []))
    return "\n".join(parts)


def action_ids(message: dict[str, Any]) -> dict[str, str]:
    """action_id -> value of every button in a message (or view)."""
    found: dict[str, str] = {}
    for block in message.get("blocks", []):
        elements = list(block.get("elements", []))
        if "accessory" in block:
            elements.append(block["accessory"])
        for element in elements:
            if element.get("type") == "button":
                found[element["action_id"]] = element.get("value", "")
    return found


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    """(action_id, value) of every button, in order, repeats kept."""
    found = []
    for block in message.get("blocks", []):
        elements = list(block.get("elements", []))
        if "accessory" in block:
            elements.append(block["accessory"])
        found += [
            (e["action_id"], e.get("value", "")) for e in elements if e.get("type") == "button"
        ]
    return found
