"""Renders Slack messages (Block Kit plus plain-text fallback) from the Jinja templates here.

A template is a JSON document `{"text": "...", "blocks": [...]}` whose dynamic parts are
`{{ ... }}` expressions written INSIDE JSON string literals. Every expression passes through
`_finalize`, which escapes it for Slack mrkdwn (`&`, `<`, `>`) and then for a JSON string, so
untrusted text can neither break the JSON nor smuggle `<!channel>`, mentions or links. A value
that must be emitted as JSON (a list, an object) goes through the `json` filter instead, which
marks it as already encoded. Trailing commas before `]` or `}` are allowed in templates.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import jinja2
from slack_sdk.models.blocks import Block

TEMPLATES_DIR = Path(__file__).parent

# Slack's limits (https://api.slack.com/reference/block-kit/blocks): beyond these a
# message is rejected outright, so long content is cut here with a visible note instead.
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_CONTEXT_ELEMENTS = 10
MAX_FALLBACK_TEXT = 4000
MAX_HOME_BLOCKS = 100

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]")
_STRING_OR_TRAILING_COMMA = re.compile(r'"(?:[^"\\]|\\.)*"|,(\s*[\]}])', re.DOTALL)


class EncodedJSON(str):
    """Text that is already a complete JSON value; `_finalize` emits it unchanged."""


def escape_mrkdwn(text: str) -> str:
    """Neutralise Slack's control sequences: `<!channel>`, `<@U123>`, `<http://…|…>`."""
    text = _CONTROL_CHARACTERS.sub(" ", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _finalize(value: Any) -> str:
    if isinstance(value, EncodedJSON):
        return str(value)
    if value is None:
        return ""
    # json.dumps escapes quotes, backslashes and newlines; strip its surrounding quotes
    # because the template already wrote them.
    return json.dumps(escape_mrkdwn(str(value)), ensure_ascii=False)[1:-1]


def _json_filter(value: Any) -> EncodedJSON:
    return EncodedJSON(json.dumps(value, ensure_ascii=False, default=str))


def format_money(value: float | None, unit: str = "") -> str:
    """£75,000 or £650/day; `not enough data` where there is no figure."""
    if value is None:
        return "not enough data"
    text = f"£{value:,.0f}" if float(value).is_integer() else f"£{value:,.2f}"
    return f"{text}{unit}"


def format_percent(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.0f}%" if float(value).is_integer() else f"{value:.1f}%"


def format_points(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "n/a"
    number = f"{value:+.0f}" if signed else f"{value:.0f}"
    if not float(value).is_integer():
        number = f"{value:+.1f}" if signed else f"{value:.1f}"
    return f"{number} pts"


def as_typed(value: Any) -> str:
    """Someone's own words as a code span, so Slack shows `*bold*`, `_this_` and bare URLs
    exactly as typed rather than as formatting or links (escaping still applies after)."""
    text = " ".join(str(value).split())
    return f"`{in_code(text)}`" if text else ""


def in_code(value: Any) -> str:
    """Text for inside a code span the template writes: a backtick would end the span early, so
    it becomes the look-alike ˋ."""
    return str(value).replace("`", "ˋ")


def fit_escaped(value: Any, limit: int = 75) -> str:
    """Cut text so that even after mrkdwn escaping it fits `limit` characters (button labels)."""
    text = escape_mrkdwn(str(value))
    if len(text) <= limit:
        return str(value)
    kept, length = [], 0
    for character in str(value):
        length += len(escape_mrkdwn(character))
        if length > limit - 1:
            break
        kept.append(character)
    return "".join(kept).rstrip() + "…"


def percent_bar(value: float | None, width: int = 10) -> str:
    """A percentage as a bar of `width` cells: 75 -> ████████░░ (blank cells when unknown)."""
    if value is None:
        return "·" * width
    filled = max(0, min(width, int(float(value) * width / 100 + 0.5)))
    return "█" * filled + "░" * (width - filled)


def format_change_percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.1f}%"


def format_date(value: date | datetime | None) -> str:
    return "" if value is None else value.strftime("%-d %b %Y")


def format_either(names: Sequence[str]) -> str:
    """Alternatives in a sentence: "AWS, GCP or Azure"."""
    names = [str(name) for name in names]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " or " + names[-1]


def _make_environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    environment.filters.update(
        json=_json_filter,
        money=format_money,
        percent=format_percent,
        points=format_points,
        change_percent=format_change_percent,
        day=format_date,
        fit=fit_escaped,
        bar=percent_bar,
        either=format_either,
        typed=as_typed,
        in_code=in_code,
    )
    return environment


ENVIRONMENT = _make_environment()


@dataclass(frozen=True)
class SlackMessage:
    """What goes to chat.postMessage & co: fallback text plus Block Kit blocks."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def as_kwargs(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def parse_rendered(raw: str, name: str = "<string>") -> Any:
    """Parse a template's output, allowing trailing commas outside string literals."""
    cleaned = _STRING_OR_TRAILING_COMMA.sub(
        lambda match: match.group(0) if match.group(1) is None else match.group(1), raw
    )
    try:
        return json.loads(cleaned)
    except json.JSONDecodeError as problem:  # a bug in a template, never in user input
        raise ValueError(f"template {name} produced invalid JSON: {problem}") from problem


def render_json(name: str, **context: Any) -> Any:
    """Render `name` (e.g. "role_card.j2") and parse the JSON it produces."""
    return parse_rendered(ENVIRONMENT.get_template(name).render(**context), name)


def render_message(name: str, **context: Any) -> SlackMessage:
    """A message from a template, cut to Slack's limits and validated block by block."""
    document = render_json(name, **context)
    blocks = fit_blocks(list(document.get("blocks", [])), MAX_BLOCKS)
    validate_blocks(blocks)
    text = str(document.get("text", "")).strip() or "SkillGap"
    return SlackMessage(text=_cut(text, MAX_FALLBACK_TEXT), blocks=blocks)


def render_view(name: str, **context: Any) -> dict[str, Any]:
    """A modal or Home tab view from a template, cut to Slack's limits and validated."""
    view: dict[str, Any] = render_json(name, **context)
    limit = MAX_HOME_BLOCKS if view.get("type") == "home" else MAX_BLOCKS
    view["blocks"] = fit_blocks(list(view.get("blocks", [])), limit)
    validate_blocks(view["blocks"])
    return view


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _fit_text_object(text_object: dict[str, Any], limit: int) -> None:
    text_object["text"] = _cut(str(text_object.get("text", "")), limit) or " "


def fit_blocks(blocks: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """Cut texts, fields and block counts to Slack's limits, saying what was left out."""
    for block in blocks:
        kind = block.get("type")
        if kind == "section":
            if isinstance(block.get("text"), dict):
                _fit_text_object(block["text"], MAX_SECTION_TEXT)
            if isinstance(block.get("fields"), list):
                block["fields"] = block["fields"][:MAX_FIELDS]
                for field_object in block["fields"]:
                    _fit_text_object(field_object, MAX_FIELD_TEXT)
        elif kind == "header" and isinstance(block.get("text"), dict):
            _fit_text_object(block["text"], MAX_HEADER_TEXT)
        elif kind == "context" and isinstance(block.get("elements"), list):
            block["elements"] = block["elements"][:MAX_CONTEXT_ELEMENTS]
            for element in block["elements"]:
                if "text" in element:
                    _fit_text_object(element, MAX_SECTION_TEXT)
    if len(blocks) > limit:
        left_out = len(blocks) - (limit - 1)
        note = f"…and {left_out} more not shown (Slack's limit)."
        blocks = [
            *blocks[: limit - 1],
            {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]},
        ]
    return blocks


def validate_blocks(blocks: list[dict[str, Any]]) -> None:
    """Raise if slack_sdk's Block Kit models reject any block."""
    for block in blocks:
        parsed = Block.parse(block)
        if parsed is None:
            raise ValueError(f"unknown block type: {block.get('type')!r}")
        parsed.validate_json()
