"""What the sender spends per delivery besides the post itself: no work nobody asked for."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

import digests.sender
from db.market_comparison import SnapshotComparison
from digests.content import Digest, DigestBuilder, RoleDigest
from digests.render import RenderedDigest
from digests.sender import DigestSender
from tests.digests.conftest import DigestHarness
from tests.digests.test_delivery import due_now


def count_slack_sdk_debug_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of slack_sdk loggers asked for a debug line (each one formatted before the call)."""
    asked: list[str] = []
    original = logging.Logger.debug

    def debug(self: logging.Logger, message: object, *args: Any, **kwargs: Any) -> None:
        if self.name.startswith("slack_sdk"):
            asked.append(self.name)
        original(self, message, *args, **kwargs)

    monkeypatch.setattr(logging.Logger, "debug", debug)
    return asked


async def test_web_api_calls_format_no_debug_lines_unless_debug_logging_is_on(
    harness: DigestHarness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    asked = count_slack_sdk_debug_calls(monkeypatch)
    caplog.set_level(logging.INFO, logger="slack_sdk")
    await due_now(harness, "C0QUIETLOG")
    await harness.work()
    assert len(harness.digests_in("C0QUIETLOG")) == 1
    assert asked == []

    # Debug logging switched on for slack_sdk: its request lines are written as before.
    caplog.set_level(logging.DEBUG, logger="slack_sdk")
    await due_now(harness, "C0DEBUGLOG")
    await harness.work()
    assert len(harness.digests_in("C0DEBUGLOG")) == 1
    assert any("Sending a request" in record.getMessage() for record in caplog.records)


async def test_one_render_serves_every_channel_of_every_workspace_seeing_the_same_data(
    harness: DigestHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    renders: list[object] = []
    original = digests.sender.render_digest

    def counting_render(digest: Digest, **options: Any) -> RenderedDigest:
        renders.append(digest)
        return original(digest, **options)

    monkeypatch.setattr(digests.sender, "render_digest", counting_render)
    harness.add_team("T0OTHER")
    await due_now(harness, "C0FIRST", "C0SECOND")
    await due_now(harness, "C0THIRD", team_id="T0OTHER")
    sender = DigestSender(
        harness.engine,
        DigestBuilder(harness.market),
        harness.token_for,
        api_url=harness.stub.api_url,
        config=harness.config,
    )
    await harness.work(sender)
    for channel in ("C0FIRST", "C0SECOND", "C0THIRD"):
        assert len(harness.digests_in(channel)) == 1
    assert len(renders) == 1
    posted = [c.args for c in harness.stub.calls_to("chat.postMessage") if c.ok]
    assert len({json.dumps(args["blocks"]) for args in posted}) == 1


def test_a_role_part_works_out_whether_it_changed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[SnapshotComparison] = []

    def has_changes(comparison: SnapshotComparison) -> bool:
        asked.append(comparison)
        return True

    monkeypatch.setattr(SnapshotComparison, "has_changes", property(has_changes))
    comparison = SnapshotComparison.__new__(SnapshotComparison)
    part = RoleDigest("ai-engineer", "AI Engineer", None, comparison)
    assert part.has_changes and part.has_changes and part.has_changes
    assert asked == [comparison]
