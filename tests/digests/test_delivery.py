"""Delivering digests to the Slack stub: content, charts, threads, Slack's errors, hostile names."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import time_machine

from bot.slack_stub_methods import StubReply, StubRequest
from db.digest_models import DeliveryKind, DeliveryStatus, SubscriptionStatus
from db.importers.document import RoleDocument, SkillDocument
from db.importers.store import store_documents
from digests import ledger
from digests.schedule import utc_now
from digests.sender import Composition
from templates import SlackMessage
from tests.commands.helpers import assert_valid_message, texts_of
from tests.digests.conftest import DigestHarness
from tests.digests.data import april, may

MONDAY = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)  # 09:00 in London


async def due_now(harness: DigestHarness, *channels: str, **options: object) -> None:
    """Subscribe the channels a week ago and tick at Monday's slot, so each has one due row."""
    with time_machine.travel(datetime(2026, 5, 25, 12, tzinfo=UTC), tick=False):
        for channel in channels:
            await harness.subscribe(channel, **options)  # type: ignore[arg-type]
    result = await harness.tick(MONDAY)
    assert result.due == len(channels)


async def test_a_digest_reports_changes_with_provenance_and_a_chart(harness: DigestHarness) -> None:
    await due_now(harness, "C0DIGEST")
    await harness.work(harness.sender(charts=True))
    [digest] = harness.digests_in("C0DIGEST")
    [call] = [c for c in harness.stub.calls_to("chat.postMessage") if c.ok]
    assert_valid_message(call.args)
    text = texts_of(call.args)
    # Every change names its figure and unit; points and per cent are never mixed.
    assert "Model Context Protocol: new in this report, demand 18%" in text
    assert "AI Evaluation &amp; Safety: demand 48% (+8 pts, was 40%)" in text
    assert "Salary, UK: median £78,000 (+£3,000, +4.0%; was £75,000), n = 412" in text
    assert "Day rate, UK: median £675/day (+£25/day, +3.8%; was £650/day)" in text
    assert "gap 32 pts (+7 pts)" in text
    assert "n/a" not in text
    assert "Compared: April 2026 → May 2026" in text and "n = 1200" in text
    # The chart goes into the digest's thread, with alt text describing it.
    [complete] = harness.stub.calls_to("files.completeUploadExternal")
    assert complete.args["thread_ts"] == digest["ts"]
    [upload] = harness.stub.calls_to("files.getUploadURLExternal")
    assert "demand against candidate supply" in upload.args["alt_txt"]
    assert harness.stub.uploads and next(iter(harness.stub.uploads.values())).startswith(b"\x89PNG")
    [row] = await ledger.list_deliveries(harness.engine)
    assert row.status == DeliveryStatus.SENT and row.message_ts == digest["ts"]
    assert row.chart_file_id


async def test_a_quiet_week_says_so_briefly_or_is_skipped(harness: DigestHarness) -> None:
    await due_now(harness, "C0QUIET")
    await due_now(harness, "C0SKIPS", skip_quiet_weeks=True)
    await harness.work()
    # A week later nothing new has been imported.
    await harness.tick(datetime(2026, 6, 8, 8, 0, tzinfo=UTC))
    await harness.work()
    quiet = harness.digests_in("C0QUIET")
    assert len(quiet) == 2
    second = [c for c in harness.stub.calls_to("chat.postMessage") if c.ok][-1]
    assert "nothing changed for AI Engineer since the last digest" in texts_of(second.args)
    assert len(second.args["blocks"]) == 1
    assert len(harness.digests_in("C0SKIPS")) == 1
    skipped = await ledger.list_deliveries(harness.engine, status=DeliveryStatus.SKIPPED_QUIET)
    assert [row.target for row in skipped] == ["C0SKIPS"]


async def test_a_rate_limit_storm_loses_and_duplicates_nothing(harness: DigestHarness) -> None:
    channels = [f"C0STORM{n}" for n in range(4)]
    await due_now(harness, *channels)
    harness.stub.rate_limit("chat.postMessage", retry_after=1, times=7)
    # Two waits per attempt, then the row goes back to the ledger (costing no attempt).
    await harness.work(harness.sender(rate_limit_waits=1, max_attempts=1))
    for channel in channels:
        assert len(harness.digests_in(channel)) == 1, channel
    assert sum(1 for c in harness.stub.calls_to("chat.postMessage") if c.status == 429) == 7
    counts = await ledger.count_by_status(harness.engine)
    assert counts == {"sent": 4}


async def test_server_errors_are_retried_until_sent(harness: DigestHarness) -> None:
    channels = [f"C0FIVE{n}" for n in range(3)]
    await due_now(harness, *channels)
    harness.stub.server_error("chat.postMessage", status=503, times=5)
    await harness.work(harness.sender(max_attempts=10))
    for channel in channels:
        assert len(harness.digests_in(channel)) == 1
    assert await ledger.count_by_status(harness.engine) == {"sent": 3}


async def test_server_errors_beyond_the_limit_fail_visibly(harness: DigestHarness) -> None:
    await due_now(harness, "C0DOWNED")
    harness.stub.server_error("chat.postMessage", status=500, times=50)
    await harness.work(harness.sender(max_attempts=3))
    [row] = await ledger.list_deliveries(harness.engine)
    assert row.status == DeliveryStatus.FAILED
    assert row.error.startswith("gave up after 3 attempts")
    assert harness.digests_in("C0DOWNED") == []


async def test_a_post_whose_answer_was_lost_is_found_not_repeated(harness: DigestHarness) -> None:
    await due_now(harness, "C0SLOW")
    slowed = {"done": False}

    async def slow_first_post(request: StubRequest) -> StubReply | None:
        if request.method == "chat.postMessage" and not slowed["done"]:
            slowed["done"] = True
            await asyncio.sleep(2.0)  # the client gives up; Slack posts it anyway
        return None

    harness.stub.add_rule(slow_first_post)
    await harness.work(harness.sender(timeout=1.0, backoff_base=2.5))
    assert len(harness.digests_in("C0SLOW")) == 1
    [row] = await ledger.list_deliveries(harness.engine)
    assert row.status == DeliveryStatus.SENT and row.attempts == 2
    assert row.message_ts == harness.digests_in("C0SLOW")[0]["ts"]
    assert len(harness.stub.calls_to("conversations.history")) == 1


async def test_a_worker_whose_lease_ran_out_before_posting_posts_nothing(
    harness: DigestHarness,
) -> None:
    await due_now(harness, "C0LEASE")
    lease = timedelta(seconds=30)
    now = utc_now()
    # A busy worker claimed the row a minute ago and has not posted yet; its lease has run
    # out, so another worker takes the row over.
    [stale] = await ledger.claim(
        harness.engine, "busy-worker", now - timedelta(minutes=1), lease=lease, limit=1
    )
    [taken] = await ledger.claim(harness.engine, "next-worker", now, lease=lease, limit=1)
    late = harness.sender(lease=lease)
    try:
        assert await late.deliver(stale, "busy-worker") == DeliveryStatus.SENDING
    finally:
        await late.close()
    assert harness.digests_in("C0LEASE") == []
    holder = harness.sender(lease=lease)
    try:
        assert await holder.deliver(taken, "next-worker") == DeliveryStatus.SENT
    finally:
        await holder.close()
    assert len(harness.digests_in("C0LEASE")) == 1


async def test_not_in_channel_pauses_and_tells_the_subscriber(harness: DigestHarness) -> None:
    await due_now(harness, "C0NOTIN", user="U0ALICE")
    harness.stub.fail("chat.postMessage", "not_in_channel", times=1)
    await harness.work()
    [row] = await ledger.list_deliveries(harness.engine)
    assert row.status == DeliveryStatus.FAILED and row.error == "not_in_channel"
    subscription = await ledger.get_subscription(harness.engine, row.subscription_id)
    assert subscription is not None and subscription.status == SubscriptionStatus.PAUSED
    assert "not a member" in subscription.paused_reason
    [dm] = [c for c in harness.stub.calls_to("chat.postMessage") if c.ok]
    assert dm.args["channel"] == "U0ALICE"
    told = texts_of(dm.args)
    assert "paused" in told and "<#C0NOTIN>" in told and "/invite" in told
    # Paused: the clock writes nothing for it next week.
    result = await harness.tick(datetime(2026, 6, 8, 8, 0, tzinfo=UTC))
    assert result.due == 0


async def test_a_revoked_token_pauses_without_a_dm(harness: DigestHarness) -> None:
    await due_now(harness, "C0REVOKED")
    harness.stub.fail("chat.postMessage", "token_revoked", times=5)
    await harness.work()
    [row] = await ledger.list_deliveries(harness.engine)
    assert row.error == "token_revoked"
    subscription = await ledger.get_subscription(harness.engine, row.subscription_id)
    assert subscription is not None and subscription.status == SubscriptionStatus.PAUSED
    assert len(harness.stub.calls_to("chat.postMessage")) == 1


async def test_hostile_role_and_skill_names_render_safely(harness: DigestHarness) -> None:
    hostile = '<!channel> *Eng* "quoted" & <https://evil.example|click> $x^2$ \\ {{ 7*7 }}'
    base = april()
    role = RoleDocument(title=hostile)
    skills = (
        SkillDocument(name="<@U0BOSS> ping", demand_pct=60, supply_pct=10, is_gap=True),
        SkillDocument(name='"}]} ,{"type":"x', demand_pct=30, supply_pct=5, is_emerging=True),
        SkillDocument(name="<!here|here> & more", demand_pct=20, supply_pct=2),
    )
    older = replace(base, role=role, skills=skills[:1], pay=())
    newer = replace(may(), role=role, skills=skills, pay=())
    [_, stored] = await store_documents(harness.engine, [older, newer])
    slug = role.slug
    await due_now(harness, "C0HOSTILE", roles=(slug,))
    await harness.work(harness.sender(charts=True))
    posts = [c for c in harness.stub.calls_to("chat.postMessage") if c.ok]
    assert len(posts) == 1
    assert_valid_message(posts[0].args)
    text = texts_of(posts[0].args)
    assert "&lt;!channel&gt;" in text and "&lt;@U0BOSS&gt; ping" in text
    assert '"}]} ,{"type":"x' in text  # a name, not JSON structure
    assert "{{ 7*7 }}" in text
    assert harness.stub.calls_to("files.completeUploadExternal")
    json.dumps(posts[0].args)
    assert stored.snapshot_id


async def test_a_long_digest_continues_in_its_thread(harness: DigestHarness) -> None:
    roles = []
    for number in range(5):
        title = f"Long Role {number}"
        skills = tuple(
            SkillDocument(
                name=f"Skill {number}-{index} " + "with a very long descriptive name " * 4,
                demand_pct=10 + index,
                supply_pct=5,
                is_emerging=True,  # a report's new skills are emerging only when it says so
            )
            for index in range(12)
        )
        role = RoleDocument(title=title)
        older = replace(april(), role=role, skills=skills[:1], pay=())
        newer = replace(may(), role=role, skills=skills, pay=())  # eleven new skills each
        await store_documents(harness.engine, [older, newer])
        roles.append(RoleDocument(title=title).slug)
    await due_now(harness, "C0LONG", roles=tuple(roles))
    await harness.work()
    [parent] = harness.digests_in("C0LONG")
    posts = [c for c in harness.stub.calls_to("chat.postMessage") if c.ok]
    assert len(posts) > 1
    for reply in posts[1:]:
        assert reply.args["thread_ts"] == parent["ts"]
        assert_valid_message(reply.args)
    assert "continued in the thread" in texts_of(posts[0].args)
    [row] = await ledger.list_deliveries(harness.engine)
    assert row.parts_sent == len(posts)


async def test_another_kind_of_delivery_uses_the_same_ledger(harness: DigestHarness) -> None:
    """A personal weekly DM plugs in a composer; the sender opens the DM and posts."""
    with time_machine.travel(datetime(2026, 5, 25, 12, tzinfo=UTC), tick=False):
        await harness.subscribe("U0BOB", kind=DeliveryKind.PERSONAL_CHECK, user="U0BOB")
    await harness.tick(MONDAY)
    sender = harness.sender()

    async def personal(delivery: object, subscription: object) -> Composition:
        return Composition((SlackMessage(text="Your weekly skills check"),))

    sender.add_composer(DeliveryKind.PERSONAL_CHECK, personal)
    await harness.work(sender)
    await sender.close()
    [opened] = harness.stub.calls_to("conversations.open")
    assert opened.args["users"] == "U0BOB"
    [post] = [c for c in harness.stub.calls_to("chat.postMessage") if c.ok]
    assert post.args["channel"] == harness.stub.dm_channel_for("U0BOB")
    [row] = await ledger.list_deliveries(harness.engine)
    assert row.kind == DeliveryKind.PERSONAL_CHECK and row.status == DeliveryStatus.SENT
