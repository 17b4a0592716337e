"""Lays a digest out as Slack messages: one channel message, and thread replies when it is long."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from digests.content import Digest, RoleDigest
from templates import (
    MAX_BLOCKS,
    MAX_FALLBACK_TEXT,
    EncodedJSON,
    SlackMessage,
    fit_blocks,
    render_json,
    render_message,
    validate_blocks,
)

# Past this much text a channel message gets hard to read; the rest goes into its thread.
PART_TEXT_BUDGET = 9000
_SLACK_ID = re.compile(r"^[CGDUW][A-Z0-9]{2,30}$")


@dataclass(frozen=True)
class RenderedDigest:
    """The channel message first, then the replies to post in its thread."""

    parts: tuple[SlackMessage, ...]
    quiet: bool

    @property
    def message(self) -> SlackMessage:
        return self.parts[0]

    @property
    def thread(self) -> tuple[SlackMessage, ...]:
        return self.parts[1:]


def mention(slack_id: str) -> str:
    """A channel or user mention, only for well-formed Slack ids (anything else stays text)."""
    if not _SLACK_ID.match(slack_id):
        return slack_id
    sigil = "#" if slack_id[0] in "CGD" else "@"
    return EncodedJSON(f"<{sigil}{slack_id}>")


def _titles(roles: tuple[RoleDigest, ...]) -> str:
    titles = [role.role_title for role in roles]
    if len(titles) <= 1:
        return "".join(titles)
    return ", ".join(titles[:-1]) + " and " + titles[-1]


def _text_size(blocks: list[dict[str, Any]]) -> int:
    return len(json.dumps(blocks, ensure_ascii=False))


def render_digest(digest: Digest, *, week_of: date | None = None) -> RenderedDigest:
    titles = _titles(digest.roles)
    if digest.is_quiet:
        return RenderedDigest(
            (render_message("digest_quiet.j2", digest=digest, role_titles=titles),), True
        )
    sections = [render_json("digest_role.j2", role=role) for role in digest.roles]
    # Pack role sections into parts: each part within Slack's block limit and a text budget.
    packed: list[list[dict[str, Any]]] = [[]]
    texts: list[list[str]] = [[]]
    header_size = 4  # the header's blocks, added to the first part below
    for section in sections:
        blocks = fit_blocks(list(section["blocks"]), MAX_BLOCKS - header_size)
        current = packed[-1]
        limit = MAX_BLOCKS - (header_size if len(packed) == 1 else 0)
        if current and (
            len(current) + len(blocks) > limit
            or _text_size(current) + _text_size(blocks) > PART_TEXT_BUDGET
        ):
            packed.append([])
            texts.append([])
        packed[-1].extend(blocks)
        texts[-1].append(str(section.get("text", "")))
    header = render_json(
        "digest.j2",
        digest=digest,
        role_titles=titles,
        news_count=len(digest.news),
        role_count=len(digest.roles),
        week_of=week_of,
        parts=len(packed),
    )
    parts = []
    for number, (blocks, role_texts) in enumerate(zip(packed, texts, strict=True)):
        if number == 0:
            blocks = [*header["blocks"], *blocks]
            text = "\n".join([header["text"], *role_texts])
        else:
            text = "\n".join(
                [f"Weekly market digest, continued ({number + 1}/{len(packed)})", *role_texts]
            )
        blocks = fit_blocks(blocks, MAX_BLOCKS)
        validate_blocks(blocks)
        parts.append(SlackMessage(text=_cut(text), blocks=blocks))
    return RenderedDigest(tuple(parts), False)


def _cut(text: str) -> str:
    text = text.strip() or "SkillGap weekly digest"
    return text if len(text) <= MAX_FALLBACK_TEXT else text[: MAX_FALLBACK_TEXT - 1] + "…"
