"""Slack stub add-ons for delivery tests and benchmarks: rate limits, and channel history.

Both use the stub's public extension points (`add_rule`, `on`), so the stub itself is
unchanged: `SlackRateLimits` refuses chat.postMessage beyond a per-channel and a
per-workspace rate with HTTP 429 and Retry-After, as Slack does; `enable_history` answers
conversations.history and conversations.replies from the messages the stub has accepted,
with their metadata, and shows each completed file upload as a message with its files in
the thread it was shared to, so a sender can look for what it already posted.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bot.slack_stub import SlackStub
from bot.slack_stub_methods import StubReply, StubRequest


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class SlackRateLimits:
    """Token buckets per channel and per workspace for the limited methods.

    `burst` is how many calls may arrive back to back before the rate applies (Slack allows
    short bursts); the long-run rate is `per_channel` and `per_workspace` calls a second.
    """

    per_channel: float = 1.0
    per_workspace: float = 5.0
    burst: float = 2.0
    methods: tuple[str, ...] = ("chat.postMessage",)
    refused: Counter[str] = field(default_factory=Counter)
    _buckets: dict[tuple[str, str], _Bucket] = field(default_factory=dict)

    def install(self, stub: SlackStub) -> SlackRateLimits:
        stub.add_rule(self)
        return self

    def _wait(self, key: tuple[str, str], rate: float, now: float) -> float:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        return 0.0 if bucket.tokens >= 1 else (1 - bucket.tokens) / rate

    async def __call__(self, request: StubRequest) -> StubReply | None:
        if request.method not in self.methods:
            return None
        now = time.monotonic()
        team = request.team_id or ""
        channel_key = ("channel", f"{team}/{request.args.get('channel', '')}")
        workspace_key = ("workspace", team)
        wait = max(
            self._wait(channel_key, self.per_channel, now),
            self._wait(workspace_key, self.per_workspace, now),
        )
        if wait > 0:
            self.refused[team] += 1
            # Slack's Retry-After is whole seconds.
            return StubReply(
                429,
                {"ok": False, "error": "ratelimited"},
                {"Retry-After": str(max(1, math.ceil(wait)))},
            )
        self._buckets[channel_key].tokens -= 1
        self._buckets[workspace_key].tokens -= 1
        return None


def posted_messages(stub: SlackStub, channel: str | None = None) -> list[dict[str, Any]]:
    """Every message the stub accepted (chat.postMessage answered ok), oldest first."""
    messages = []
    for call in stub.calls_to("chat.postMessage"):
        if not call.ok or not isinstance(call.response, dict):
            continue
        answered_channel = str(call.response.get("channel", ""))
        if channel is not None and answered_channel != channel:
            continue
        message: dict[str, Any] = {
            "type": "message",
            "channel": answered_channel,
            "ts": call.response.get("ts"),
            "text": call.args.get("text", ""),
            "team": call.team_id,
        }
        if call.args.get("thread_ts"):
            message["thread_ts"] = call.args["thread_ts"]
        if isinstance(call.args.get("metadata"), dict):
            message["metadata"] = call.args["metadata"]
        messages.append(message)
    return messages


def shared_files(stub: SlackStub, channel: str) -> list[dict[str, Any]]:
    """Completed uploads (files.completeUploadExternal answered ok) as Slack shows them."""
    messages = []
    for call in stub.calls_to("files.completeUploadExternal"):
        if not call.ok or str(call.args.get("channel_id", "")) != channel:
            continue
        message: dict[str, Any] = {
            "type": "message",
            "upload": True,
            "ts": f"{call.at:.6f}",
            "files": [{"id": entry.get("id")} for entry in call.response.get("files") or []],
        }
        if call.args.get("thread_ts"):
            message["thread_ts"] = call.args["thread_ts"]
        messages.append(message)
    return messages


def enable_history(stub: SlackStub) -> None:
    """Answer conversations.history / conversations.replies from what was posted."""

    def visible(message: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
        shown = dict(message)
        if str(args.get("include_all_metadata", "")).lower() not in ("true", "1"):
            shown.pop("metadata", None)
        return shown

    async def history(request: StubRequest) -> dict[str, Any]:
        channel = str(request.args.get("channel", ""))
        oldest = float(request.args.get("oldest") or 0)
        top_level = [
            visible(m, request.args)
            for m in posted_messages(stub, channel)
            if "thread_ts" not in m and float(m["ts"]) >= oldest
        ]
        return {"ok": True, "messages": top_level[::-1], "has_more": False}

    async def replies(request: StubRequest) -> dict[str, Any]:
        channel = str(request.args.get("channel", ""))
        ts = str(request.args.get("ts", ""))
        thread = [
            visible(m, request.args)
            for m in posted_messages(stub, channel) + shared_files(stub, channel)
            if m["ts"] == ts or m.get("thread_ts") == ts
        ]
        if not thread:
            return {"ok": False, "error": "thread_not_found"}
        return {"ok": True, "messages": thread, "has_more": False}

    stub.on("conversations.history", history)
    stub.on("conversations.replies", replies)
